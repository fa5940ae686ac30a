"""The bounded template sandbox: hostile templates fail fast, in little memory, with one clear reason."""

from __future__ import annotations

import json
import time
import tracemalloc
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2.exceptions import SecurityError

from runner.main import main
from runner.notify.render import TemplateFailed, render
from runner.sandbox import BoundedSandbox, Limits, TemplateLimit
from runner.static.subscription_texts import sample_message

NESTED = "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}"
HOSTILE = [
    (
        "{{ 'x' * 2000000000 }}",
        TemplateLimit,
        "the repetition would make 2,000,000,000 characters or items, more than 1,000,000",
    ),
    ("{{ (10**100000)|string }}", TemplateLimit, "the power 10 ** 100000 would have more than 4,300 digits"),
    (NESTED, TemplateLimit, "the template's loops run more than 100,000 times in all"),
    ("{{ ''.__class__ }}", SecurityError, "access to attribute '__class__' of 'str' object is unsafe."),
    (  # a string doubled 40 times in a loop of 40: never 1 TB
        "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
        TemplateLimit,
        "a value of more than 1,000,000 characters or items",
    ),
    (
        "{% set ns = namespace(n=3) %}{% for i in range(40) %}{% set ns.n = ns.n * ns.n %}{% endfor %}",
        TemplateLimit,
        "the product would have more than 4,300 digits",
    ),
    (
        "{% for i in range(100000) %}{{ 'x' * 20 }}{% endfor %}",
        TemplateLimit,
        "the template renders more than 1,000,000 characters",
    ),
    (
        "{% set x %}{% for i in range(99999) %}{{ 'y' * 999 }}{% endfor %}{% endset %}",
        TemplateLimit,
        "the template builds more than 20,000,000 characters in all",
    ),
    (  # a filtered loop whose body never runs counts what it looks at
        "{% for i in range(999) %}{% for j in range(99999) if false %}{% endfor %}{% endfor %}",
        TemplateLimit,
        "the template's loops run more than 100,000 times in all",
    ),
    (
        "{{ 'x'|center(1000000000) }}",
        TemplateLimit,
        "the center filter's argument 1,000,000,000 is beyond the output limit of 1,000,000 characters",
    ),
    (
        "{{ 'x'.ljust(10**9) }}",
        TemplateLimit,
        "ljust() of 1,000,000,000 is beyond the output limit of 1,000,000 characters",
    ),
    (
        "{{ '%0999999999d' % 1 }}",
        TemplateLimit,
        "a format width of 999,999,999 is beyond the output limit of 1,000,000 characters",
    ),
    (
        "{{ '{:>999999999}'.format(1) }}",
        TemplateLimit,
        "a format width of 999,999,999 is beyond the output limit of 1,000,000 characters",
    ),
    (
        "{{ ('x' * 999999)|replace('x', 'yy') }}",
        TemplateLimit,
        "the replacement would make 1,999,998 characters, more than 1,000,000",
    ),
    (
        "{{ [1]|batch(10**9)|list }}",
        TemplateLimit,
        "the batch filter's argument 1,000,000,000 is beyond the output limit of 1,000,000 characters",
    ),
    (  # short, but printed it would be 1 GB
        "{{ ['x' * 999999] * 1000 }}",
        TemplateLimit,
        "the repetition would make 1,000,005,000 characters or items, more than 1,000,000",
    ),
    (
        "{{ ([1] * 100000)|join('x' * 999999) }}",
        TemplateLimit,
        "the join would make 99,999,200,003 characters, more than 1,000,000",
    ),
    (
        "{{ ('\n' * 999999)|indent(999999) }}",
        TemplateLimit,
        "indent would make 999,999,999,999 characters, more than 1,000,000",
    ),
    (
        "{{ ('x' * 99999)|wordwrap(1, wrapstring='y' * 999) }}",
        TemplateLimit,
        "wordwrap would make 99,999,999 characters, more than 1,000,000",
    ),
    (  # pure Python, seconds on a long text
        "{{ ('x' * 999999)|wordwrap(3) }}",
        TemplateLimit,
        "the wordwrap filter is given more than 100,000 characters",
    ),
    ("{{ lipsum(10**9) }}", jinja2.UndefinedError, "'lipsum' is undefined"),
    ("{{ [1, 2].append(3) }}", SecurityError, "access to attribute 'append' of 'list' object is unsafe."),
]


@pytest.mark.parametrize(("template", "kind", "reason"), HOSTILE)
def test_a_hostile_template_fails_fast_in_little_memory(template: str, kind: type, reason: str) -> None:
    compiled = BoundedSandbox(undefined=jinja2.StrictUndefined).from_string(template)
    started = time.perf_counter()
    with pytest.raises(kind) as caught:
        compiled.render()
    assert time.perf_counter() - started < 2  # the limit stops it, long before the 5 s clock (unbounded: 37 s)
    assert str(caught.value) == reason
    tracemalloc.start()
    try:
        with pytest.raises(kind):
            compiled.render()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64_000_000  # bytes; unbounded, these renders took 2 GB and more


def test_the_render_time_is_bounded() -> None:
    env = BoundedSandbox(limits=Limits(seconds=0.001))
    recursion = "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}"
    with pytest.raises(TemplateLimit) as caught:
        env.from_string(recursion).render()  # 2**40 calls, no loop: only the clock stops it
    assert str(caught.value) == "the template takes longer than 0.001 s to render"


def test_within_the_limits_templates_render_as_jinja2_does() -> None:
    env = BoundedSandbox()
    text = (
        "{% for i in range(3) %}{{ i }}{% endfor %} {{ 'ab' ~ 'cd' }} {{ 2 ** 10 }} {{ '%5s|' % 'a' }} "
        "{{ '{:>4}'.format(1) }} {{ 'x' * 3 }} {{ 'a-b'|replace('-', '+') }} {{ 'x'|center(5) }}|"
        "{{ [1, 2]|join(', ') }}|{{ 'a\nb'|indent(2, first=true) }}|{{ 'hello world'|wordwrap(5) }}|"
        "{{ ([1] * 100000)|length }}|{{ ([[range(9)] * 9] * 9)|length }}|"
        "{% for node in [[1, [[2, []]]]] recursive %}{{ node[0] }}{{ loop(node[1]) }}{% endfor %}"
    )
    assert env.from_string(text).render() == (
        "012 abcd 1024     a|    1 xxx a+b   x  |1, 2|  a\n  b|hello\nworld|100000|9|12"
    )
    loops = "{% for i in range(100000) %}{% endfor %}done"  # exactly the limit
    assert env.from_string(loops).render() == "done"


def test_a_render_of_a_template_module_is_bounded_too() -> None:
    env = BoundedSandbox()
    with pytest.raises(TemplateLimit, match="loops run more than 100,000"):
        env.from_string(NESTED).make_module({})
    module = env.from_string("{% set subject = 'S' %}body").make_module({})
    assert (str(module), module.subject) == ("body", "S")


@pytest.mark.parametrize(
    ("template", "error"),
    [
        ("{{ 'x' * 2000000000 }}", "template line 1: the repetition would make 2,000,000,000 characters or items"),
        ("ok\n{{ (10**100000)|string }}", "template line 2: the power 10 ** 100000 would have more than 4,300"),
        ("\n\n" + NESTED, "template line 3: the template's loops run more than 100,000 times in all"),
        ("{{ ''.__class__ }}", "template line 1: access to attribute '__class__' of 'str' object is unsafe."),
    ],
)
def test_notify_names_the_subscription_line_and_reason(template: str, error: str) -> None:
    with pytest.raises(TemplateFailed) as caught:
        render(
            sample_message("ops", "immediate"), format="text", language="en", zone=ZoneInfo("UTC"), template=template
        )
    assert str(caught.value).startswith(f"subscription 'ops': {error}")


def test_validate_reports_each_hostile_subscription_template(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rules").mkdir()
    entries = "".join(
        f"  - name: s{n}\n    channel: email\n    recipients: [ops@example.com]\n    template: {json.dumps(text)}\n"
        for n, (text, _, _) in enumerate(HOSTILE[:4])
    )
    (tmp_path / "rules/subscriptions.yaml").write_text(f"subscriptions:\n{entries}", encoding="utf-8")
    started = time.perf_counter()
    assert main(["validate", "--format", "json", "rules/subscriptions.yaml"]) == 1
    assert time.perf_counter() - started < 10
    findings = json.loads(capsys.readouterr().out)
    limit, sandbox = "breaks a limit of the template sandbox", "is refused by the template sandbox"
    assert [(f["line"], f["check"], f["message"]) for f in findings] == [
        (
            5,
            "template.render_error",
            f"template {limit}: {HOSTILE[0][2]}; render less (fewer loops, smaller repetitions)",
        ),
        (
            9,
            "template.render_error",
            f"template {limit}: {HOSTILE[1][2]}; render less (fewer loops, smaller repetitions)",
        ),
        (
            13,
            "template.render_error",
            f"template {limit}: {HOSTILE[2][2]}; render less (fewer loops, smaller repetitions)",
        ),
        (
            17,
            "template.render_error",
            f"template {sandbox}: access to attribute '__class__' of 'str' object is unsafe; "
            "use the template's values, not Python internals",
        ),
    ]


ATOMS = st.sampled_from(["'x'", "'ab\\ncd'", "9", "999999", "10 ** 5", "[1, 'y']", "range(99999)", "items", "total"])
FILTERS = st.sampled_from(
    ["|string", "|list", "|join", "|join('zz')", "|center(999999)", "|indent(99)", "|replace('x', 'xxxx')", "|tojson",
     "|wordwrap(3)", "|batch(3)", "|sum", "|length", "|upper", "|format(1)", "|sort"]
)  # fmt: skip
EXPRESSIONS = st.recursive(
    ATOMS,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from([" * ", " ** ", " ~ ", " + ", " % "]), inner).map(lambda t: f"({''.join(t)})"),
        st.tuples(inner, FILTERS).map(lambda t: f"({t[0]}{t[1]})"),
        inner.map(lambda e: f"[{e}] * 999"),
    ),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(expression=EXPRESSIONS, looped=st.booleans())
def test_no_expression_exhausts_memory_or_time(expression: str, looped: bool) -> None:
    text = f"{{% for i in range(99999) %}}{{{{ {expression} }}}}{{% endfor %}}" if looped else f"{{{{ {expression} }}}}"
    compiled = BoundedSandbox(limits=Limits(seconds=2.0)).from_string(text)
    started = time.perf_counter()
    _attempt(compiled)
    assert time.perf_counter() - started < 5, text  # the 2 s clock and the one operation it interrupts
    tracemalloc.start()
    try:
        _attempt(compiled)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 200_000_000, text


def _attempt(compiled: jinja2.Template) -> None:
    try:
        compiled.render(items=["a", "b"], total=2)
    except MemoryError:
        raise
    except Exception:  # refused or failed with a reason: what validate and notify report
        pass
