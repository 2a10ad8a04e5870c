"""Validate one corpus file against the schema (for authors; `panelist kb validate` does all)."""

import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from knowledge.schema import ConceptFile, DesignCase, Framework, SourceFile

for name in sys.argv[1:]:
    path = Path(name)
    data = yaml.safe_load(path.read_text())
    model = {"framework.yaml": Framework, "sources.yaml": SourceFile}.get(path.name)
    if model is None:
        model = DesignCase if path.parent.name == "cases" else ConceptFile
    model.model_validate(data)
    print(f"ok: {path}")
