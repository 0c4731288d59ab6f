"""What a study folder tells define.xml beyond the datasets: documents, CRF pages, methods, codelists.

study.yaml may carry a `submission:` mapping (all keys optional):

    submission:
      acrf: docs/acrf.pdf                 # annotated CRF, relative to the study folder
      acrf_pages:                         # aCRF pages of collected items
        ae.csv: 12                        #   a raw form: every Collected variable mapped from it
        AE.AETERM: 12                     #   one variable
        SUPPAE.QVAL.AEDLT: [13]           #   one SUPP-- QNAM (value level)
      reviewers_guide: {sdtm: docs/csdrg.pdf, adam: docs/adrg.pdf}
      arm:                                # key displays -> Analysis Results Metadata (define_arm)
        "14.2.1.1": {purpose: SECONDARY OUTCOME MEASURE, reason: SPECIFIED IN SAP}

The documents are copied beside the define.xml of their package (define.xml references them by
file name: def:leaf, def:AnnotatedCRF / def:SupplementalDoc, def:PDFPageRef per collected item).
From the SDTM specs come the plain-English method texts (define_methods) and the codelists each
variable, branch and SUPP-- QNAM names (`ct:`), so a flag QVAL such as AEDLT gets NY and a
result whose branches name NY and ONCRSR gets the one its values belong to.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping

from trialforge.errors import SpecError

from .define_methods import method_texts

SUBMISSION_KEYS = {"acrf", "acrf_pages", "reviewers_guide", "arm"}


def submission_config(study) -> dict:
    """The `submission:` mapping of study.yaml, checked (unknown keys are errors)."""
    raw = (getattr(study, "raw", None) or {}).get("submission") or {}
    if not isinstance(raw, dict):
        raise SpecError("submission must be a mapping", file=study.config_file, column="submission")
    unknown = sorted(set(raw) - SUBMISSION_KEYS)
    if unknown:
        raise SpecError(f"unknown key {unknown[0]!r} in submission; known: {', '.join(sorted(SUBMISSION_KEYS))}",
                        file=study.config_file, column="submission")
    return raw


def documents(study, package: str) -> dict[str, Path]:
    """{"acrf": path, "reviewers_guide": path} of one package ("sdtm" / "adam") that exist."""
    cfg = submission_config(study)
    out = {}
    wanted = {"acrf": cfg.get("acrf") if package == "sdtm" else None}
    guide = cfg.get("reviewers_guide")
    wanted["reviewers_guide"] = guide.get(package) if isinstance(guide, dict) else (guide if package == "sdtm" else None)
    for key, rel in wanted.items():
        if not rel:
            continue
        path = Path(study.root) / str(rel)
        if not path.is_file():
            raise SpecError("document named in study.yaml not found", file=study.config_file,
                            column=f"submission.{key}", value=str(rel))
        out[key] = path
    return out


def _pages(cfg: Mapping, specs) -> dict[str, str]:
    """"DS.VAR" / "SUPPxx.QVAL.QNAM" -> pages, from acrf_pages keyed by variable or by raw form file."""
    raw = cfg.get("acrf_pages") or {}
    if not isinstance(raw, dict):
        raise SpecError("submission.acrf_pages must map raw form files or DS.VAR to pages")

    def text(v):
        return " ".join(str(p) for p in v) if isinstance(v, (list, tuple)) else str(v)
    out: dict[str, str] = {}
    forms = {k: text(v) for k, v in raw.items() if "." in k and k.rsplit(".", 1)[1].lower() in ("csv", "xlsx", "sas7bdat")}
    for spec in specs:
        by_source = {s.name: s.file for s in spec.sources}
        files = [s.file for s in spec.sources]
        for name, rule in spec.variables.items():
            if name in spec.working or rule.origin != "Collected":
                continue
            pages = sorted({forms[f] for f in files if f in forms})
            if pages:
                out[f"{spec.dataset}.{name}"] = " ".join(pages)
        for supp in spec.supp:
            src = [by_source[supp.source]] if supp.source in by_source else files
            pages = sorted({forms[f] for f in src if f in forms})
            if pages and str(supp.qorig).upper() == "CRF":
                out[f"SUPP{spec.domain}.QVAL.{supp.qnam}"] = " ".join(pages)
    out.update({k: text(v) for k, v in raw.items() if k not in forms})
    return out


def _rule_codelists(rule) -> list[str]:
    """The `ct:` codelists a rule names, its own first, then its when/else branches'."""
    found = [rule.get("ct")] if rule.get("ct") else []
    if rule.kind == "when":
        for _cond, then in rule.value:
            found += _rule_codelists(then)
    if rule.get("else") is not None and hasattr(rule.get("else"), "kind"):
        found += _rule_codelists(rule.get("else"))
    return list(dict.fromkeys(found))


def spec_facts(study, datasets: Mapping | None = None) -> dict:
    """`extra` for write_define of the SDTM package: methods, pages and codelist candidates."""
    from trialforge.specs.spec import load_domain_specs
    specs = load_domain_specs(study.specs_dir)
    names = {name: set(ds.meta.variable_names) for name, ds in (datasets or {}).items()}
    candidates: dict[str, list[str]] = {}
    for spec in specs:
        for name, rule in spec.variables.items():
            refs = _rule_codelists(rule)
            if len(refs) > 1 or (refs and rule.kind == "when"):     # branch codelists: for slices only
                candidates[f"{spec.dataset}.{name}.*"] = refs
        for supp in spec.supp:
            refs = _rule_codelists(supp.rule)
            if refs:
                candidates[f"SUPP{spec.domain}.QVAL.{supp.qnam}"] = refs
    methods = method_texts(specs, names)
    if datasets is not None:      # only variables the package has (a spec variable may be dropped)
        methods = {k: v for k, v in methods.items()
                   if k.split(".")[0] in datasets and k.split(".")[1] in names.get(k.split(".")[0], ())}
    return {"methods": methods, "codelists": candidates, "pages": _pages(submission_config(study), specs)}


def write_define_bundle(datasets: Mapping, folder, *, study, info: Mapping, standard: str, ct,
                        package: str, arm=None, tool_version: str | None = None) -> list[Path]:
    """define.xml of one package with everything a reviewer opens beside it; returns the paths.

    Writes define.xml (xml-stylesheet instruction, documents, CRF pages and spec methods for SDTM,
    Analysis Results Metadata for ADaM when `arm` displays are given), define2-1.xsl and its
    licence, the study's documents, and define.html rendered from the define.
    """
    import shutil

    from .arrow_text import forget_text_codes
    from .define import write_define
    from .define_html import render_define_html, ship_stylesheet
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    extra = spec_facts(study, datasets) if package == "sdtm" else {}
    info = dict(info)
    written = []
    for key, path in sorted(documents(study, package).items()):
        target = folder / path.name
        shutil.copyfile(path, target)
        written.append(target)
        info[key] = path.name
    try:
        define = write_define(list(datasets.values()), folder / "define.xml", study=info, standard=standard,
                              ct=ct, created=info["created"], extra=extra, arm=arm,
                              tool_version=tool_version)
    finally:
        forget_text_codes([getattr(d, "frame", d) for d in datasets.values()])   # the package's last reader of its columns' codes
    written += [define, *ship_stylesheet(folder), render_define_html(define)]
    return written


def table_specs(study, adam: Mapping | None = None) -> list:
    """The study's tables and figures catalogue (study.yaml `tables`, else the package default), the
    table spec objects ARM is built from, with their `@{fact}` texts resolved against the ADaM data
    and adam.yaml as the tables build resolves them (so ARM and the CSR say the same)."""
    from trialforge.tables.catalogue import study_catalogue
    catalogue = study_catalogue(study)
    if adam is None:
        return list(catalogue.outputs)
    import yaml

    from trialforge.tables.facts import Facts
    spec = Path(study.specs_dir) / "adam.yaml"
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)          # libyaml when present: same document
    config = (yaml.load(spec.read_text(encoding="utf-8"), Loader=loader) or {}) if spec.is_file() else {}
    facts = Facts(dict(adam), config, catalogue.defs)
    return [facts.apply(o) for o in catalogue.outputs]


def key_displays(study, adam: Mapping | None = None) -> list:
    """ArmDisplays of the displays study.yaml `submission.arm` names (none: no ARM)."""
    from .define_arm import arm_displays
    cfg = submission_config(study).get("arm")
    if not cfg:
        return []
    try:
        return arm_displays(table_specs(study, adam), cfg)
    except SpecError as exc:
        raise SpecError(exc.cause, file=study.config_file, column=exc.column or "submission.arm",
                        value=exc.value) from None
