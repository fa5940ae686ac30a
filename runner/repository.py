"""The configuration repository: every file, loaded lazily, and its index of ids."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from runner.document import Document
from runner.files import FileSource, FileSystem
from runner.kinds import BY_NAME, CONFIG_DIRECTORIES, KINDS, SCHEMA_DIRECTORY, Kind, kind_of, scan_id
from runner.positions import JsonPath
from runner.root import NotARepository
from runner.schemas import SchemaStore, bundled_schema_dir

Definition = tuple[str, JsonPath]


class Repository:
    """Files are parsed only when a check needs them; ids of single-id files are scanned."""

    def __init__(self, root: Path, source: FileSource | None = None) -> None:
        """source: where the files are read from; by default the directory root (a git revision: review)."""
        self.root = root
        self.source: FileSource = source or FileSystem(root)
        if not any(self.source.is_dir(name) for name in CONFIG_DIRECTORIES):
            raise NotARepository(root)
        local = self.source.list(SCHEMA_DIRECTORY, "*.schema.json")
        if not local:
            self.schemas = SchemaStore(bundled_schema_dir())
        elif isinstance(self.source, FileSystem):
            self.schemas = SchemaStore(root / SCHEMA_DIRECTORY)
        else:
            texts = {rel.rpartition("/")[2]: self.source.read(rel) for rel in local}
            self.schemas = SchemaStore(root / SCHEMA_DIRECTORY, files=texts)
        self._documents: dict[str, Document] = {}

    @cached_property
    def _kinds(self) -> dict[str, Kind]:
        """Every configuration file (repository-relative, sorted) and its kind."""
        found: dict[str, Kind] = {}
        for kind in KINDS:
            for pattern in (kind.file_pattern, kind.file_pattern.replace(".yaml", ".yml")):
                found.update((rel, kind) for rel in self.source.list(kind.directory, pattern))
        return dict(sorted(found.items()))

    @cached_property
    def files(self) -> list[str]:
        return list(self._kinds)

    def files_of(self, kind: Kind) -> list[str]:
        return [rel for rel, found in self._kinds.items() if found is kind]

    def document(self, rel: str) -> Document:
        if rel not in self._documents:
            kind = self._kinds.get(rel) or kind_of(rel)
            assert kind is not None, rel
            document = Document.read(self.root, rel, kind, reader=self.source.read)
            if document.error is None:
                document.schema_valid = self.schemas.is_valid(kind.schema, document.data)
                if document.schema_valid:  # what validate accepts, every reader can rely on
                    document.data = self.schemas.with_defaults(kind.schema, document.data)
            self._documents[rel] = document
        return self._documents[rel]

    def documents(self, kind_name: str) -> list[Document]:
        return [self.document(rel) for rel in self.files_of(BY_NAME[kind_name])]

    def definitions(self, kind_name: str) -> dict[str, list[Definition]]:
        """id -> every (file, path) that defines it, across the whole repository."""
        return self._definitions[kind_name]

    @cached_property
    def _definitions(self) -> dict[str, dict[str, list[Definition]]]:
        index: dict[str, dict[str, list[Definition]]] = {kind.name: {} for kind in KINDS}
        for rel, kind in self._kinds.items():
            for found_id, path in self._ids_in(rel, kind):
                index[kind.name].setdefault(found_id, []).append((rel, path))
        return index

    def _ids_in(self, rel: str, kind: Kind) -> list[Definition]:
        if kind.single_id and rel not in self._documents:
            try:
                # an undecodable file still defines its id; its own error is reported where it is validated
                scanned = scan_id(self.source.read(rel).decode("utf-8", errors="replace"))
            except OSError:
                return []
            if scanned is not None:
                return [(scanned, ("id",))]
        document = self.document(rel)
        return list(kind.ids(document.data)) if document.error is None else []

    def find(self, kind_name: str, wanted: str) -> Document | None:
        """The schema-valid document that defines an id, if exactly one does."""
        places = self.definitions(kind_name).get(wanted, [])
        if len(places) != 1:
            return None
        document = self.document(places[0][0])
        return document if document.schema_valid else None

    def invalid(self, *kind_names: str) -> list[str]:
        """Files of these kinds that could not be read or do not match their schema (and are skipped)."""
        return [d.rel for name in kind_names for d in self.documents(name) if not d.schema_valid]

    def single(self, kind_name: str) -> Any:
        """Data of a one-file kind (rules/thresholds.yaml ...), or None when absent or invalid."""
        documents = [d for d in self.documents(kind_name) if d.schema_valid]
        return documents[0].data if documents else None

    @cached_property
    def thresholds(self) -> dict[str, Any]:
        """rules/thresholds.yaml over the defaults written in its schema."""
        found = self.single("thresholds")
        return dict(found if found is not None else self.schemas.with_defaults("thresholds.schema.json", {}))
