"""Find where a value lives in a YAML file, only when there is something to report.

Parsing for data throws positions away; when a finding needs one we compose the
text again (libyaml, no construction) and walk the node tree along the JSON path.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import yaml

from runner.yaml_loader import _ConfigLoader

JsonPath = Sequence[str | int]
_NAME = re.compile(r"^[\w.-]+$")


def path_text(path: JsonPath, data: Any = None) -> str:
    """A path as messages write it: keys by name, a list item by its id or name, else by its position
    counted from 1 as lines are (subscriptions[ops_mail].working_days[5])."""
    text = ""
    node = data
    for step in path:
        if isinstance(step, int):
            item = node[step] if isinstance(node, list) and 0 <= step < len(node) else None
            named = item.get("id", item.get("name")) if isinstance(item, dict) else None
            text += f"[{named}]" if isinstance(named, str) and _NAME.match(named) else f"[{step + 1}]"
            node = item
        else:
            text += f".{step}" if text else str(step)
            node = node.get(step) if isinstance(node, dict) else None
    return text


class Locator:
    """Line/column lookups in one file; the node tree is built on first use."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._root: yaml.Node | None = None
        self._composed = False

    def _tree(self) -> yaml.Node | None:
        if not self._composed:
            self._composed = True
            loader = _ConfigLoader(self._text)
            try:
                self._root = loader.get_single_node()
            except yaml.YAMLError:
                self._root = None
            finally:
                loader.dispose()
        return self._root

    def position(self, path: JsonPath, *, key: bool = False) -> tuple[int, int]:
        """1-based line and column of the value at path (of its key when key=True).

        When the path leads somewhere that does not exist, the key of the deepest
        existing node is returned: that is where a missing value should be added.
        """
        node = self._tree()
        if node is None:
            return (1, 1)
        mark = owner = node.start_mark
        for index, step in enumerate(path):
            last = index == len(path) - 1
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(step):
                        node = value_node
                        owner = key_node.start_mark
                        mark = owner if (key and last) else value_node.start_mark
                        break
                else:
                    mark = owner
                    break
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
                node = node.value[step]
                mark = owner = node.start_mark
            else:
                mark = owner
                break
        return (mark.line + 1, mark.column + 1)

    def position_in_text(self, path: JsonPath, text_line: int) -> tuple[int, int]:
        """1-based line and column of a line of the string at path (a template body's line 3).

        A literal block (`body: |`) keeps its lines as they are written; a one-line string has
        only its own line; other styles fold lines, so the line is found by its text.
        """
        line, column = self.position(path)
        node = self._node(path)
        if not isinstance(node, yaml.ScalarNode) or text_line < 1:
            return (line, column)
        lines = self._text.splitlines()
        if node.style == "|":
            target = node.start_mark.line + text_line  # the first line of content follows the indicator
            if target < len(lines) and target <= node.end_mark.line:
                return (target + 1, len(lines[target]) - len(lines[target].lstrip()) + 1)
            return (line, column)
        wanted = node.value.split("\n")
        if text_line > len(wanted) or not wanted[text_line - 1].strip():
            return (line, column)
        # every line of a folded value begins a line of the file: find them in order
        at = node.start_mark.line
        block = node.style == ">"  # its first line follows the indicator; a flow scalar's is the value's own
        for value_line in wanted[0 if block else 1 : text_line]:
            start = value_line.split()[0] if value_line.strip() else None
            if start is None:
                continue
            found = next(
                (
                    n
                    for n in range(at + 1, min(node.end_mark.line + 1, len(lines)))
                    if lines[n].lstrip().startswith(start)
                ),
                None,
            )
            if found is None:
                return (line, column)
            at = found
        if at == node.start_mark.line:
            return (line, column)
        return (at + 1, len(lines[at]) - len(lines[at].lstrip()) + 1)

    def _node(self, path: JsonPath) -> yaml.Node | None:
        """The node at exactly path, or None."""
        node = self._tree()
        for step in path:
            if isinstance(node, yaml.MappingNode):
                node = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(step)), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
                node = node.value[step]
            else:
                return None
        return node

    def written(self, path: JsonPath) -> str | None:
        """The text of the scalar at path as the author wrote it (10:30, not the 630 YAML read); None if absent."""
        node = self._node(path)
        if not isinstance(node, yaml.ScalarNode):
            return None
        return self._text[node.start_mark.index : node.end_mark.index]
