"""Read one YAML configuration file safely and fast.

The common path is libyaml's C parser. On top of it we refuse what PyYAML lets
through silently: duplicate keys (the last one would win), alias bombs, files too
large to be configuration, bytes that are not UTF-8, integers longer than
MAX_INTEGER_DIGITS digits, explicit tags other than `!!str` that change what a value
is, and nesting deeper than MAX_DEPTH levels. Dates stay strings and only true/false
are booleans (YAML 1.2), so `NO` stays a country code and a start date stays what the
author wrote. No file makes `parse` raise anything but YamlError.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

MAX_FILE_BYTES = 1_000_000
MAX_EXPANDED_NODES = 100_000
MAX_INTEGER_DIGITS = 100
MAX_DEPTH = 100

_DIGITS = frozenset("0123456789abcdefABCDEF")  # hexadecimal too: 0xfff... is as large
_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"

_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ALIAS = re.compile(r"(?:^|(?<=[\s\[,{:]))\*[A-Za-z0-9_-]+", re.MULTILINE)
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")


class YamlError(Exception):
    """A file that cannot be read as configuration; line and column are 1-based."""

    def __init__(self, check_id: str, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.check_id = check_id
        self.message = message
        self.line = line
        self.column = column


class _ConfigLoader(_Loader):  # type: ignore[misc]  # libyaml's class is untyped
    duplicates: list[tuple[str, yaml.Mark]]

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys = [key.value for key, _value in node.value if isinstance(key, yaml.ScalarNode)]
        if len(keys) != len(set(keys)):
            seen: set[str] = set()
            for key, _value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value in seen:
                    self.duplicates.append((key.value, key.start_mark))
                seen.add(key.value)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        _refuse_explicit_tag(self, node)
        digits = sum(c in _DIGITS for c in node.value) if len(node.value) > MAX_INTEGER_DIGITS else 0
        if digits > MAX_INTEGER_DIGITS:
            raise _error_at(
                node,
                "yaml.integer_too_long",
                f"integer of {digits:,} digits: configuration integers are limited to {MAX_INTEGER_DIGITS} "
                "digits; quote the value if it is text",
            )
        value: int = super().construct_yaml_int(node)
        return value

    def construct_checked(self, node: yaml.Node) -> Any:
        """float, bool, null, seq and map: only where the value is that on its own (no `!!float abc`)."""
        _refuse_explicit_tag(self, node)
        return self.yaml_constructors_safe[node.tag](self, node)

    def construct_refused(self, node: yaml.Node) -> Any:
        """Every tag no plain value resolves to: !!binary, !!set, !!omap, !!timestamp, !custom, ..."""
        raise _explicit_tag(node)


_ConfigLoader.yaml_constructors_safe = dict(yaml.SafeLoader.yaml_constructors)
_ConfigLoader.add_constructor("tag:yaml.org,2002:int", _ConfigLoader.construct_yaml_int)
for _tag in ("float", "bool", "null", "seq", "map"):
    _ConfigLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _ConfigLoader.construct_checked)
for _tag in ("binary", "timestamp", "omap", "pairs", "set"):
    _ConfigLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _ConfigLoader.construct_refused)
_ConfigLoader.add_constructor(None, _ConfigLoader.construct_refused)


def _yaml12_resolvers() -> dict[Any, list[tuple[str, Any]]]:
    resolvers: dict[Any, list[tuple[str, Any]]] = {}
    for first, entries in yaml.SafeLoader.yaml_implicit_resolvers.items():
        kept = [(tag, regexp) for tag, regexp in entries if tag != "tag:yaml.org,2002:timestamp"]
        kept = [(tag, _BOOL if tag == "tag:yaml.org,2002:bool" else regexp) for tag, regexp in kept]
        if first in ("y", "Y", "n", "N", "o", "O"):
            kept = [(tag, regexp) for tag, regexp in kept if tag != "tag:yaml.org,2002:bool"]
        if kept:
            resolvers[first] = kept
    return resolvers


_ConfigLoader.yaml_implicit_resolvers = _yaml12_resolvers()


def _refuse_explicit_tag(loader: Any, node: yaml.Node) -> None:
    """A tag the value would not get on its own (`!!int abc`, `!!map [1]`) was written explicitly."""
    if isinstance(node, yaml.ScalarNode):
        if not node.style and node.tag == loader.resolve(yaml.ScalarNode, node.value, (True, False)):
            return
    elif node.tag == (_SEQ if isinstance(node, yaml.SequenceNode) else _MAP):
        return
    raise _explicit_tag(node)


def _explicit_tag(node: yaml.Node) -> YamlError:
    tag = node.tag.replace("tag:yaml.org,2002:", "!!")
    return _error_at(
        node,
        "yaml.explicit_tag",
        f"explicit tag {tag} cannot be read here: configuration takes plain YAML values "
        "(only !!str is allowed); remove the tag, or quote the value to make it text",
    )


def _error_at(node: yaml.Node, check_id: str, message: str) -> YamlError:
    """A loader finding at the node's first character (1-based line and column)."""
    return YamlError(check_id, message, node.start_mark.line + 1, node.start_mark.column + 1)


def decode(raw: bytes) -> str:
    """UTF-8 text of a file, or a YamlError at the first bad byte."""
    if len(raw) > MAX_FILE_BYTES:
        raise YamlError(
            "yaml.too_large",
            f"file is {len(raw) / 1e6:.1f} MB; configuration files are limited to "
            f"{MAX_FILE_BYTES / 1e6:.0f} MB - split it or move data out of the repository",
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise YamlError(
            "yaml.encoding",
            f"byte 0x{raw[exc.start]:02x} is not UTF-8; save the file as UTF-8",
            line,
            column,
        ) from None


def parse(text: str) -> Any:
    """Parse one YAML document into plain Python data."""
    loader = _ConfigLoader(text)
    loader.duplicates = []
    try:
        root = loader.get_single_node()
        if _may_be_deep(text):
            _refuse_deep_nesting(root)
        data = loader.construct_document(root) if root is not None else None
    except YamlError:
        raise
    except yaml.MarkedYAMLError as exc:
        if exc.problem == "exceeded maximum nesting depth":  # libyaml stops at 1,000 levels
            mark = exc.problem_mark
            raise _too_deep(mark.line + 1 if mark else 1, mark.column + 1 if mark else 1) from None
        tab = _tab_at(text, exc.problem_mark)
        if tab is not None:
            line, column = tab
            raise YamlError(
                "yaml.syntax",
                f"tab character at line {line} column {column}: YAML indents with spaces only; replace it with spaces",
                line,
                column,
            ) from None
        # a key without its ':' is noticed a line later; the key itself is where to look
        key_started = exc.context == "while scanning a simple key" and exc.context_mark is not None
        mark = exc.context_mark if key_started else (exc.problem_mark or exc.context_mark)
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlError("yaml.syntax", f"YAML syntax error: {problem}", line, column) from None
    except yaml.YAMLError as exc:
        raise YamlError("yaml.syntax", f"YAML syntax error: {exc}") from None
    except RecursionError:  # the pure-Python parser, without libyaml's own limit
        raise _too_deep(1, 1) from None
    except Exception as exc:  # no file may crash validate or run
        raise YamlError("yaml.syntax", f"YAML could not be read: {type(exc).__name__}: {str(exc)[:200]}") from None
    finally:
        loader.dispose()
    if loader.duplicates:
        key, mark = loader.duplicates[0]
        raise YamlError(
            "yaml.duplicate_key",
            f"duplicate key {key!r}: YAML would silently keep only the last value; remove or rename one",
            mark.line + 1,
            mark.column + 1,
        )
    first_alias = _ALIAS.search(text) if "*" in text else None
    if first_alias:  # aliases share objects: only then can the data be larger than the text
        try:
            _refuse_alias_bomb(data)
        except YamlError as exc:
            exc.line = text.count("\n", 0, first_alias.start()) + 1
            exc.column = first_alias.start() - (text.rfind("\n", 0, first_alias.start()) + 1) + 1
            raise
    return data


def _too_deep(line: int, column: int) -> YamlError:
    return YamlError(
        "yaml.too_deep",
        f"values nested more than {MAX_DEPTH} levels deep: configuration is never this deep; flatten the structure",
        line,
        column,
    )


_DEEP_INDENT = re.compile(rf"^[ -]{{{MAX_DEPTH // 2 - 1}}}", re.MULTILINE)


def _may_be_deep(text: str) -> bool:
    """Each level past the first takes a bracket or a column of indentation (or of `- `): count them cheaply."""
    brackets = text.count("[") + text.count("{")
    return brackets >= MAX_DEPTH // 2 - 1 or _DEEP_INDENT.search(text) is not None


def _refuse_deep_nesting(root: yaml.Node | None) -> None:
    """Readers walk the data recursively: refuse it before they do, at the first node too deep."""
    stack: list[tuple[yaml.Node, int]] = [(root, 1)] if root is not None else []
    seen: set[int] = set()
    while stack:
        node, depth = stack.pop()
        if isinstance(node, yaml.ScalarNode) or id(node) in seen:  # an alias is walked once
            continue
        if depth > MAX_DEPTH:
            raise _too_deep(node.start_mark.line + 1, node.start_mark.column + 1)
        seen.add(id(node))
        children = (
            [child for pair in node.value for child in pair] if isinstance(node, yaml.MappingNode) else node.value
        )
        stack.extend((child, depth + 1) for child in reversed(children))


def _tab_at(text: str, mark: yaml.Mark | None) -> tuple[int, int] | None:
    """1-based line and column of the tab the scanner stopped at, or of one in that line's indentation."""
    if mark is None:
        return None
    if text[mark.index : mark.index + 1] == "\t":
        return mark.line + 1, mark.column + 1
    line_start = text.rfind("\n", 0, mark.index) + 1
    line = text[line_start:].split("\n", 1)[0]
    indentation = line[: len(line) - len(line.lstrip(" \t"))]
    if "\t" in indentation:
        return mark.line + 1, indentation.index("\t") + 1
    return None


def _refuse_alias_bomb(data: Any) -> None:
    """Aliases share objects; count the nodes the document would expand to."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(value: Any) -> int:
        if not isinstance(value, (dict, list)):
            return 1
        key = id(value)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise YamlError("yaml.alias_bomb", "an alias refers to itself; recursive structures are not configuration")
        active.add(key)
        children = value.values() if isinstance(value, dict) else value
        total = 1 + sum(size(child) for child in children)
        active.discard(key)
        sizes[key] = total
        if total > MAX_EXPANDED_NODES:
            raise YamlError(
                "yaml.alias_bomb",
                f"aliases expand this document to more than {MAX_EXPANDED_NODES:,} values "
                "(a 'billion laughs' structure); write the values out instead",
            )
        return total

    size(data)
