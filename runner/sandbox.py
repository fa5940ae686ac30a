"""The one Jinja2 sandbox for the templates users write: campaign texts and subscription messages.

Jinja2's ImmutableSandboxedEnvironment refuses `''.__class__` and changes to lists and dicts; this
subclass also gives every render a budget, so no template can exhaust memory or time:

    output      at most 1,000,000 characters, and at most 20,000,000 built in all on the way; a value
                (a list too: about what it prints as) at most 1,000,000 characters
    loops       at most 100,000 iterations in total (nested loops multiply)
    integers    at most 4,300 digits
    time        at most 5 seconds of wall clock

What would break a limit is refused before it is computed: `'x' * 2000000000`, `10 ** 100000`, a
format width or a filter's count beyond the output limit. Breaking a limit raises TemplateLimit with
a human reason. `render` and `make_module` of the templates it compiles run under the budget.
"""

from __future__ import annotations

import itertools
import math
import re
import string
import time
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.environment import TemplateModule
from jinja2.exceptions import SecurityError
from jinja2.runtime import LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment


class TemplateLimit(Exception):
    """A render broke one of the budget's limits; the message says which, in the user's terms."""


class TemplateTimeout(TemplateLimit):
    """A render ran out of its wall-clock time."""


@dataclass(frozen=True)
class Limits:
    output: int = 1_000_000  # characters a render may produce
    iterations: int = 100_000  # loop iterations in one render, all loops together
    digits: int = 4_300  # digits of an integer (Python's own limit for int -> str)
    seconds: float = 5.0  # wall clock of one render
    built: int = 20_000_000  # characters of every string built on the way (the output limit, 20 times)


LIMITS = Limits()


def refusal(exc: BaseException) -> str | None:
    """What the sandbox refused, as the rest of a sentence naming the template; None for another error."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0].rstrip(".")
    if isinstance(exc, TemplateLimit):
        return f"breaks a limit of the template sandbox: {text}; render less (fewer loops, smaller repetitions)"
    if isinstance(exc, SecurityError):
        return f"is refused by the template sandbox: {text}; use the template's values, not Python internals"
    return None


_LOG2 = math.log10(2)


class _Budget:
    """What one render has spent."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.deadline = time.monotonic() + limits.seconds
        self.iterations = 0
        self.built = 0

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise TemplateTimeout(f"the template takes longer than {self.limits.seconds:g} s to render")

    def iteration(self) -> None:
        self.iterations += 1
        if self.iterations > self.limits.iterations:
            raise TemplateLimit(f"the template's loops run more than {self.limits.iterations:,} times in all")
        self.tick()


_PASSED = (jinja2.runtime.Context, nodes.EvalContext, jinja2.Environment)
_SEQUENCES = (str, bytes, list, tuple)
_SIZED = (*_SEQUENCES, dict, set, frozenset)


def weight(value: Any, limit: int) -> int:
    """About how many characters `value` prints as: a list holding one long string a million times is
    huge, though short. Strings count their length, integers their digits, other values 20; counted
    until past `limit`."""
    memo: dict[int, int] = {}

    def of(item: Any) -> int:
        if isinstance(item, str | bytes):
            return len(item) + 2  # quoted, in a container
        if _counts(item):
            return int(item.bit_length() * _LOG2) + 1
        if not isinstance(item, _SIZED):
            return _OTHER
        if id(item) in memo:
            return memo[id(item)]
        total = 2  # brackets, then a separator after each member
        members = itertools.chain.from_iterable(item.items()) if isinstance(item, dict) else item
        for member in members:
            total += of(member) + 2
            if total > limit:
                break
        memo[id(item)] = total
        return total

    return len(value) if isinstance(value, str | bytes) else of(value)


_OTHER = 20  # what a value that is no string, integer or container prints as, about


def _counts(value: Any) -> bool:
    """An integer, not a boolean."""
    return isinstance(value, int) and not isinstance(value, bool)


_CURRENT: ContextVar[_Budget | None] = ContextVar("template_budget", default=None)


def _spend() -> _Budget | None:
    budget = _CURRENT.get()
    if budget is not None:
        budget.tick()
    return budget


class _Generator(CodeGenerator):
    """Compiles every loop to count its iterations and every `~` to have its size checked."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        counted = nodes.Call(nodes.EnvironmentAttribute("counted"), [node.iter], [], None, None, lineno=node.lineno)
        counted.set_environment(self.environment)
        node.iter = counted
        super().visit_For(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.checked(")
        super().visit_Concat(node, frame)
        self.write(")")


_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\d+|\*)?(?:\.(\d+|\*))?")
_COUNTING_FILTERS = frozenset({"batch", "center", "indent", "slice", "tojson", "truncate", "wordwrap"})  # int: a size
_SLOW_FILTERS = {"wordwrap": 100_000, "urlize": 100_000}  # pure Python, seconds on a long text
_AMPLIFYING = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs", "to_bytes"})  # str, int methods


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox with a render budget (see the module docstring)."""

    code_generator_class = _Generator
    intercepted_binops = frozenset({"*", "**", "+", "%", "//", "/", "-"})

    def __init__(self, *args: Any, limits: Limits = LIMITS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        self.globals.pop("lipsum", None)  # placeholder text has no place in a message, and lipsum(10**9) is huge
        self.filters = {name: self._bounded_filter(name, f) for name, f in self.filters.items()}

    # -- the budget of one render

    @contextmanager
    def budget(self) -> Iterator[_Budget]:
        """The budget of the render running now; a render inside a render shares it."""
        current = _CURRENT.get()
        if current is not None:
            yield current
            return
        budget = _Budget(self.limits)
        token = _CURRENT.set(budget)
        try:
            yield budget
        finally:
            _CURRENT.reset(token)

    # -- sizes

    def checked(self, value: Any) -> Any:
        """`value`, once it is known not to break the size limits; what it cost counts as built."""
        if isinstance(value, _SIZED):
            size = len(value) if isinstance(value, str | bytes) else weight(value, self.limits.output)
            if size > self.limits.output:
                raise TemplateLimit(f"a value of more than {self.limits.output:,} characters or items")
            budget = _CURRENT.get()
            if budget is not None:
                budget.built += len(value)
                if budget.built > self.limits.built:
                    raise TemplateLimit(f"the template builds more than {self.limits.built:,} characters in all")
        elif isinstance(value, int) and value.bit_length() * _LOG2 > self.limits.digits:
            raise TemplateLimit(f"an integer of more than {self.limits.digits:,} digits")
        return value

    def concat(self, parts: Iterable[str]) -> str:
        """Every buffer Jinja2 joins (the output, a macro's, a {% set %} block's), stopped once too long."""
        collected, size = [], 0
        for part in parts:
            size += len(part)
            if size > self.limits.output:
                raise TemplateLimit(f"the template renders more than {self.limits.output:,} characters")
            collected.append(part)
        _spend()
        joined = "".join(collected)
        self.checked(joined)
        return joined

    def counted(self, iterable: Iterable[Any]) -> Iterator[Any]:
        """A loop's items, each counted against the iterations of the render."""
        budget = _CURRENT.get()
        for item in iterable:
            if budget is not None:
                budget.iteration()
            yield item

    def _count_limit(self, value: Any, what: str) -> None:
        if _counts(value) and abs(value) > self.limits.output:
            raise TemplateLimit(f"{what} {value:,} is beyond the output limit of {self.limits.output:,} characters")

    def _format_widths(self, text: str, arguments: Iterable[Any], percent: bool) -> None:
        """A format string's widths and precisions (`%999999999d`, `{:>999999999}`) within the output limit."""
        specs: list[str] = []
        if percent:
            for found in _PERCENT_SPEC.finditer(text):
                specs.extend(group for group in found.groups() if group)
        else:
            try:
                fields = [spec for _, _, spec, _ in string.Formatter().parse(text) if spec]
            except ValueError:
                return  # str.format reports the broken format string itself
            specs = [number for spec in fields for number in re.findall(r"\d+", spec)]
            specs += ["*" for spec in fields if "{" in spec]
        for spec in specs:
            if spec == "*":
                for argument in arguments:
                    self._count_limit(argument, "a format width of")
            else:
                self._count_limit(int(spec), "a format width of")

    # -- what the sandbox intercepts

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        _spend()
        if operator == "*":
            self._repetition(left, right)
        elif operator == "**":
            self._power(left, right)
        elif operator == "%" and isinstance(left, str):
            self._format_widths(left, right if isinstance(right, tuple) else (right,), percent=True)
        return self.checked(super().call_binop(context, operator, left, right))

    def _repetition(self, left: Any, right: Any) -> None:
        sized, count = (left, right) if isinstance(left, _SEQUENCES) else (right, left)
        if isinstance(sized, _SEQUENCES) and _counts(count):
            size = weight(sized, self.limits.output) * count
            if size > self.limits.output:
                raise TemplateLimit(
                    f"the repetition would make {size:,} characters or items, more than {self.limits.output:,}"
                )
        if (
            _counts(left)
            and _counts(right)
            and (left.bit_length() + right.bit_length()) * _LOG2 > self.limits.digits + 1
        ):
            raise TemplateLimit(f"the product would have more than {self.limits.digits:,} digits")

    def _power(self, left: Any, right: Any) -> None:
        if isinstance(left, int | float) and isinstance(right, int) and right > 0 and abs(left) > 1:
            digits = right * math.log10(abs(left))
            if digits > self.limits.digits:
                raise TemplateLimit(f"the power {left} ** {right} would have more than {self.limits.digits:,} digits")

    def call(__self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _spend()
        if isinstance(__obj, LoopContext) and args:  # loop(children) of a recursive loop: counted as well
            args = (__self.counted(args[0]), *args[1:])
        elif isinstance(__obj, types.BuiltinMethodType) and __obj.__name__ in _AMPLIFYING:
            for argument in (*args, *kwargs.values()):
                __self._count_limit(argument, f"{__obj.__name__}() of")
        elif isinstance(__obj, types.BuiltinMethodType) and __obj.__name__ == "replace":
            __self._replacement(__obj.__self__, *args)
        elif isinstance(__obj, types.BuiltinMethodType) and __obj.__name__ == "join" and args:
            __self._joined(args[0], __obj.__self__)
        return __self.checked(super().call(__context, __obj, *args, **kwargs))

    def _replacement(self, text: Any, old: Any = "", new: Any = "", count: Any = -1) -> None:
        if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
            times = (text.count(old) if old else len(text) + 1) if count < 0 else count
            size = len(text) + times * (len(new) - len(old))
            if size > self.limits.output:
                raise TemplateLimit(f"the replacement would make {size:,} characters, more than {self.limits.output:,}")

    def _joined(self, items: Any, separator: Any) -> None:
        """A join of sized items: their weight and the separator between each two, within the output limit."""
        if isinstance(items, _SIZED) and isinstance(separator, str | bytes):
            size = weight(items, self.limits.output) + len(separator) * max(0, len(items) - 1)
            if size > self.limits.output:
                raise TemplateLimit(f"the join would make {size:,} characters, more than {self.limits.output:,}")

    def _inserted(self, name: str, text: str, arguments: list[Any]) -> None:
        """indent puts its width (or string) before every line; wordwrap its wrapstring at every wrap."""
        strings = sum(len(a) for a in arguments if isinstance(a, str))
        if name == "wordwrap" and not strings:
            strings = 1  # its default wrapstring, a newline
        widths = [a for a in arguments if _counts(a)]
        if name == "indent":
            size = len(text) + (text.count("\n") + 1) * (strings + sum(widths))
        else:
            size = len(text) + (len(text) // max(1, widths[0] if widths else 79) + text.count("\n") + 1) * strings
        if size > self.limits.output:
            raise TemplateLimit(f"{name} would make {size:,} characters, more than {self.limits.output:,}")

    def _indented(self, value: Any, indent: Any) -> None:
        """tojson's indent repeats at every line, and a line is about every item."""
        if _counts(indent) and indent > 0:
            size = weight(value, self.limits.output) * (indent + 1)
            if size > self.limits.output:
                raise TemplateLimit(f"tojson would make {size:,} characters, more than {self.limits.output:,}")

    def getattr(self, obj: Any, attribute: str) -> Any:
        _spend()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _spend()
        return super().getitem(obj, argument)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        formatter = super().wrap_str_format(value)
        if formatter is None:
            return None
        text = value.__self__

        @wraps(formatter)
        def bounded(*args: Any, **kwargs: Any) -> str:
            values = args[0].values() if value.__name__ == "format_map" and args else (*args, *kwargs.values())
            self._format_widths(text, values, percent=False)
            return formatter(*args, **kwargs)

        return bounded

    def _bounded_filter(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        """A filter whose counts and widths stay within the output limit, and whose result is checked."""

        @wraps(function)
        def bounded(*args: Any, **kwargs: Any) -> Any:
            _spend()
            values = [a for a in args if not isinstance(a, _PASSED)]  # what Jinja2 passes first
            if name in _COUNTING_FILTERS:
                for argument in (*values[1:], *kwargs.values()):  # values[0] is what is filtered
                    self._count_limit(argument, f"the {name} filter's argument")
            if name == "tojson" and values:
                indent = kwargs.get("indent", values[1] if len(values) > 1 else None)
                self._indented(values[0], indent)
            if name == "replace" and values:
                self._replacement(str(values[0]), *(str(v) for v in values[1:3]))
            if name == "join" and values:
                self._joined(values[0], values[1] if len(values) > 1 else kwargs.get("d", ""))
            if name in _SLOW_FILTERS and values and len(str(values[0])) > _SLOW_FILTERS[name]:
                raise TemplateLimit(f"the {name} filter is given more than {_SLOW_FILTERS[name]:,} characters")
            if name in ("indent", "wordwrap") and values:
                self._inserted(name, str(values[0]), [*values[1:], *kwargs.values()])
            if name == "format" and values and isinstance(values[0], str):
                self._format_widths(values[0], (*values[1:], *kwargs.values()), percent=True)
            return self.checked(function(*args, **kwargs))

        return bounded


class BoundedTemplate(jinja2.Template):
    """A template whose render and module run under their environment's budget."""

    environment: BoundedSandbox

    def render(self, *args: Any, **kwargs: Any) -> str:
        with self.environment.budget():
            return super().render(*args, **kwargs)

    def generate(self, *args: Any, **kwargs: Any) -> Iterator[str]:
        yield self.render(*args, **kwargs)

    def make_module(
        self, vars: dict[str, Any] | None = None, shared: bool = False, locals: Mapping[str, Any] | None = None
    ) -> TemplateModule:
        """The rendered module (its body and its top-level {% set %} values); errors keep the raw traceback."""
        with self.environment.budget():
            context = self.new_context(vars, shared, locals)
            body = self.environment.concat(self.root_render_func(context))
            return TemplateModule(self, context, [body])


BoundedSandbox.template_class = BoundedTemplate
