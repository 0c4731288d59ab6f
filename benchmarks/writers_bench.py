"""Time (or profile) the package writers alone on datasets built once: validation reports, XPT,
Dataset-JSON, define.xml bundle, manifest.

Building SDTM/ADaM at 1,000 subjects costs minutes; the writers cost seconds. So ``--build`` runs
the pipeline once without tables (``run_study(tables=False)``) and pickles the datasets and the
validation reports; every later call loads the pickle and runs only the writers, through the same
pipeline functions ``trialforge run`` uses. Run it with another checkout on PYTHONPATH to compare
before/after on the same pickle in the same session.

    python benchmarks/writers_bench.py --build STUDY_DIR --pickle /tmp/ds.pkl
    python benchmarks/writers_bench.py --study STUDY_DIR --pickle /tmp/ds.pkl [--profile out.pstats]

Dataset-JSON and define are timed per package (``define_sdtm``, ``define_adam``). Before the clock
starts, the modules a ``trialforge run`` has already loaded when it reaches the writers (the SDTM and
ADaM engines, the gate) are imported, so the figures do not charge their import to a writer.
"""
from __future__ import annotations

import argparse
import pickle
import shutil
import tempfile
import time
from pathlib import Path


def build(study_dir: Path, pickle_path: Path) -> None:
    from trialforge.pipeline import run_study
    out = Path(tempfile.mkdtemp(prefix="tf-writers-build-")) / "out"
    try:
        result = run_study(study_dir, out_dir=out, tables=False)
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)
    with open(pickle_path, "wb") as fh:
        pickle.dump({"sdtm": result.sdtm, "adam": result.adam, "reports": result.reports}, fh, protocol=5)


def run_writers(study_dir: Path, data: dict, folder: Path, timer) -> None:
    """What run_study does after the gates, stage by stage (same functions, same order)."""
    from trialforge import pipeline as p
    from trialforge.specs.ct import load_ct, write_codelist_releases
    from trialforge.validation.report import write_reports

    import trialforge.adam.build  # noqa: F401  (loaded by the ADaM stage of a run)
    import trialforge.validation.runner  # noqa: F401
    study = p.load_study(study_dir)
    ct = load_ct(list(study.ct_files) or None)
    info = p.study_info(study)
    created = p.created_timestamp(study)
    result = p.RunResult(out_dir=folder, sdtm=data["sdtm"], adam=data["adam"], reports=data["reports"])
    folder.mkdir(parents=True)
    with timer("reports"):
        for name, report in result.reports.items():
            write_reports(report, folder / "validation" / name, package=f"{study.id} {name.upper()}")
        write_codelist_releases(folder / "validation" / "ct_releases.csv", ct, list(result.sdtm.values()))
    for name, datasets, standard in (("sdtm", result.sdtm, p.SDTM_IG), ("adam", result.adam, p.ADAM_IG)):
        if not datasets:
            continue
        with timer("xpt"):
            p.write_package(datasets, folder / name, created=created)
        with timer(f"dataset_json_{name}"):
            p.write_dataset_jsons(datasets, folder / name / "json", study=info, standard=standard)
        with timer(f"define_{name}"):
            p._write_define_bundle(datasets, folder / name, info, standard, ct, study, name)
    with timer("manifest"):
        p._write_manifest(folder, study, result, None, ct)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--study", type=Path, help="the study folder the pickle was built from")
    parser.add_argument("--build", type=Path, metavar="STUDY_DIR", help="build the datasets and pickle them")
    parser.add_argument("--pickle", type=Path, required=True)
    parser.add_argument("--out", type=Path, help="keep the written files here (default: a temp folder)")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the writers to this file")
    args = parser.parse_args(argv)
    if args.build:
        build(args.build, args.pickle)
        return
    from contextlib import contextmanager
    with open(args.pickle, "rb") as fh:
        data = pickle.load(fh)
    times: dict[str, float] = {}

    @contextmanager
    def timer(stage):
        cpu = time.process_time()
        yield
        times[stage] = times.get(stage, 0.0) + time.process_time() - cpu

    tmp = Path(tempfile.mkdtemp(prefix="tf-writers-"))
    folder = args.out or tmp / "out"
    try:
        if args.profile:
            import cProfile
            prof = cProfile.Profile()
            prof.runcall(run_writers, args.study, data, folder, timer)
            prof.dump_stats(args.profile)
        else:
            run_writers(args.study, data, folder, timer)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rows = sum(len(ds.frame) for part in ("sdtm", "adam") for ds in data[part].values())
    print(f"{rows} rows; CPU seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in times.items())
          + f"; writers total {sum(times.values()):.2f}")


if __name__ == "__main__":
    main()
