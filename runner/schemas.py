"""The JSON Schemas: loaded once, asked fast, explained precisely when a file fails."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.errors import UsageError
from runner.positions import JsonPath
from runner.schema_compiler import Compiler, Predicate, Unsupported

if TYPE_CHECKING:
    import jsonschema
    from referencing import Registry


@dataclass(frozen=True)
class SchemaIssue:
    path: JsonPath
    message: str
    key: bool = False


def bundled_schema_dir() -> Path:
    """Schemas shipped in the wheel, or the source checkout's schemas/ in development."""
    packaged = Path(str(resources.files("runner"))) / "schemas"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parent.parent / "schemas"


class SchemaStore:
    def __init__(self, directory: Path, files: Mapping[str, bytes] | None = None) -> None:
        """files: schema name -> bytes, when the schemas are not read from directory (a git revision)."""
        self.directory = directory
        self.documents: dict[str, Any] = {}
        self.texts: dict[str, str] = {}
        found = list(files) if files is not None else [path.name for path in directory.glob("*.schema.json")]
        for name in sorted(found):
            path = directory / name
            try:
                self.texts[name] = files[name].decode("utf-8") if files is not None else path.read_text("utf-8")
                self.documents[name] = json.loads(self.texts[name])
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise UsageError(f"{path}: cannot read schema: {exc}") from None
        self._predicates: dict[str, Predicate] = {}
        self._default_nodes: dict[int, bool] = {}  # schema node -> has a default below it (schema_defaults)

    # jsonschema is imported only when a file or a schema is invalid: the common path never needs it
    @cached_property
    def _registry(self) -> Registry[Any]:
        from referencing import Registry, Resource

        return Registry().with_resources(
            (name, Resource.from_contents(contents)) for name, contents in self.documents.items()
        )

    def _validator(self, name: str) -> jsonschema.protocols.Validator:
        import jsonschema

        return jsonschema.Draft202012Validator(self.schema(name), registry=self._registry)

    def schema(self, name: str) -> Any:
        if name not in self.documents:
            raise UsageError(f"{self.directory / name}: schema is missing")
        return self.documents[name]

    def is_valid(self, name: str, data: Any) -> bool:
        if name not in self._predicates:
            try:
                self._predicates[name] = Compiler(self._resolve).compile(name, self.schema(name))
            except Unsupported:
                self._predicates[name] = self._validator(name).is_valid
        return self._predicates[name](data)

    def _resolve(self, base: str, ref: str) -> tuple[str, Mapping[str, Any]]:
        file, _, pointer = ref.partition("#")
        target_file = file or base
        node: Any = self.schema(target_file)
        for part in filter(None, pointer.split("/")):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return target_file, node

    def issues(
        self, name: str, data: Any, written: Callable[[JsonPath], str | None] | None = None
    ) -> list[SchemaIssue]:
        """written: the source text at a path, so that messages quote what the author wrote."""
        from runner.schema_errors import explain

        errors = sorted(self._validator(name).iter_errors(data), key=lambda e: list(e.absolute_path))
        return [issue for error in errors for issue in explain(error, data, written)]

    def meta_issues(self, name: str) -> list[SchemaIssue]:
        """Problems of a schema file itself, against the 2020-12 meta-schema."""
        import jsonschema

        meta = jsonschema.Draft202012Validator(jsonschema.Draft202012Validator.META_SCHEMA)
        return [SchemaIssue(tuple(e.absolute_path), e.message) for e in meta.iter_errors(self.schema(name))]

    def with_defaults(self, name: str, data: Any) -> Any:
        """A valid document's data with the schema's defaults filled in wherever a field is missing."""
        from runner.schema_defaults import with_defaults

        return with_defaults(self._resolve, name, self.schema(name), data, self._default_nodes)
