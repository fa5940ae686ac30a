"""One configuration file: its text, its data, and where things are in it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from runner import yaml_loader
from runner.kinds import Kind
from runner.positions import JsonPath, Locator


@dataclass
class Document:
    rel: str
    kind: Kind
    text: str = ""
    data: Any = None
    error: yaml_loader.YamlError | None = None
    schema_valid: bool = False

    @classmethod
    def read(cls, root: Path, rel: str, kind: Kind, *, reader: Callable[[str], bytes] | None = None) -> Document:
        """reader: how to get the bytes of rel (a git revision's blobs); by default the file under root."""
        document = cls(rel, kind)
        try:
            raw = reader(rel) if reader is not None else (root / rel).read_bytes()
        except OSError as exc:
            document.error = yaml_loader.YamlError("yaml.unreadable", f"cannot read file: {exc.strerror}")
            return document
        try:
            document.text = yaml_loader.decode(raw)
            document.data = yaml_loader.parse(document.text)
        except yaml_loader.YamlError as exc:
            document.error = exc
        return document

    @cached_property
    def locator(self) -> Locator:
        return Locator(self.text)

    def position(self, path: JsonPath, *, key: bool = False, text_line: int = 0) -> tuple[int, int]:
        """Where the value (key=True: its key) at path is; text_line: that line of the string value."""
        if text_line:
            return self.locator.position_in_text(path, text_line)
        return self.locator.position(path, key=key)
