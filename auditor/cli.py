"""The command line: `auditor check`, `auditor rules`, `auditor bench`, `auditor serve`, `auditor keys`.

Input is read and validated whole before anything is scored, so bad input stops the run with a
message naming the file, row, record id and field, and nothing is written. Output to a file is
written to a temporary file and renamed into place only when the batch is complete. `--format
jsonl` to standard output streams one line per record as it is scored, so an error or Ctrl-C
there says how many records were already written. No record text ever reaches an error message
or a log; findings are printed only because the user asked.

Exit status: 0 success; 2 unreadable input, bad options or settings, a malformed rule file or an
unloadable model, or output that cannot be written; 3 an internal error; 130 interrupted (Ctrl-C);
141 standard output closed early (a broken pipe, as in `auditor check ... | head`), quietly.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TextIO

import typer

from auditor import __version__, stops
from auditor.files import atomic_text
from auditor.findings import Grade, RecordResult, summarise
from auditor.records import InputError, Record, read_batch
from auditor.rulebook import RuleBook, RuleFileError
from auditor.scoring import ScoringConfig
from auditor.spreadsheet import spreadsheet_safe

if TYPE_CHECKING:
    from spacy.language import Language

    from auditor.classifier import TrainedModels

app = typer.Typer(
    name="auditor",
    help="Find the recording weaknesses Ofsted inspectors cite in children's social care records.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"auditor: error: {message}", err=True)
    raise typer.Exit(code)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        typer.echo(__version__)
        raise typer.Exit(0)


@app.command()
def check(
    inputs: Annotated[
        list[Path], typer.Argument(metavar="INPUT...", help="JSONL, CSV (UTF-8, UTF-16 or cp1252) or XLSX files.")
    ],
    output_format: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.table,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of standard output.")
    ] = None,
    rules_dir: Annotated[
        Path | None, typer.Option("--rules", help="Folder of rule files (default: the shipped rules).")
    ] = None,
    scoring_file: Annotated[
        Path | None, typer.Option("--scoring", help="YAML file of scoring weights and grade thresholds.")
    ] = None,
    show_personal_data: Annotated[
        bool, typer.Option("--show-personal-data", help="Print possible personal data unmasked in findings.")
    ] = False,
    no_model: Annotated[bool, typer.Option("--no-model", help="Use the rules alone, without the classifier.")] = False,
) -> None:
    """Audit records and print each one's score, grade and findings, in input order."""
    from auditor.engine import Auditor

    progress = _Progress()
    try:
        try:
            scoring = ScoringConfig.from_file(scoring_file) if scoring_file else ScoringConfig()
            rules = RuleBook.load(rules_dir)
            batch = read_batch(inputs)
        except (InputError, RuleFileError, ValueError) as exc:
            _fail(str(exc))
        auditor = Auditor(
            rules=rules,
            scoring=scoring,
            nlp=_pipeline(),
            show_personal_data=show_personal_data,
            models=_models(no_model),
        )
        _write(_WRITERS[output_format], _audited(auditor, batch), rules, output, output_format, progress)
    except KeyboardInterrupt:
        typer.echo(f"auditor: interrupted; {progress.told()}", err=True)
        raise typer.Exit(130) from None


def _pipeline() -> Language:
    """The spaCy pipeline, or exit 2 naming AUDITOR_SPACY_MODEL if the pipeline it names won't load."""
    from auditor import pipeline

    name = os.environ.get("AUDITOR_SPACY_MODEL")
    try:
        return pipeline.build()
    except Exception as exc:
        if not name:
            raise  # the blank pipeline failing is a bug, not a setting
        if isinstance(exc, ValueError) and "AUDITOR_SPACY_MODEL" in str(exc):
            _fail(str(exc))  # "spaCy pipeline 'x' is not installed; unset AUDITOR_SPACY_MODEL ..."
        _fail(
            f"AUDITOR_SPACY_MODEL={name!r}: the spaCy pipeline cannot be loaded ({exc.__class__.__name__}); "
            "unset AUDITOR_SPACY_MODEL to use the default"
        )


def _models(no_model: bool) -> TrainedModels | None:
    """The shipped classifier (None if turned off or not shipped), or exit 2 naming the model
    file or folder that cannot be loaded."""
    from auditor.engine import shipped_models

    if no_model:
        return None
    try:
        return shipped_models()
    except Exception as exc:
        from auditor.classifier import models_dir

        where = getattr(exc, "filename", None) or models_dir()
        _fail(
            f"{where}: the trained model cannot be loaded ({exc.__class__.__name__}); "
            "run `auditor train` to rebuild it, or use --no-model (or AUDITOR_MODEL=off)"
        )


class _Progress:
    """How far the output got: what an error or Ctrl-C may truthfully say was written."""

    def __init__(self) -> None:
        self.streaming = False  # jsonl to standard output: each record is written as it is scored
        self.writing = False  # buffered output is being written to standard output
        self.records = 0  # records written so far, when streaming
        self.handed = 0  # records handed to the writer (one more than written while it writes)

    def counted(self, results: Iterable[RecordResult]) -> Iterator[RecordResult]:
        """`results`, counting each one once the writer has written it (the jsonl writer writes
        and flushes a record before it asks for the next)."""
        for result in results:
            self.handed += 1
            yield result
            self.records += 1

    def told(self) -> str:
        if self.streaming and self.records:
            noun = "record was" if self.records == 1 else "records were"
            return (
                f"the first {self.records} {noun} already written to standard output (the next may be partly written)"
            )
        if self.streaming and self.handed:
            # A record is counted when the writer asks for the next one, just after it is flushed:
            # an interruption between the two finds one record on standard output and none counted.
            return "no record had been completely written to standard output (the first may be partly written)"
        if self.writing:
            return "standard output may hold part of the results"
        return "nothing was written"


def _write(
    writer: Callable[[TextIO, Iterable[RecordResult], RuleBook], None],
    results: Iterable[RecordResult],
    rules: RuleBook,
    output: Path | None,
    output_format: OutputFormat,
    progress: _Progress,
) -> None:
    try:
        if output is not None:
            with atomic_text(output) as handle:
                writer(handle, results, rules)
        elif output_format is OutputFormat.jsonl:
            progress.streaming = True
            writer(sys.stdout, progress.counted(results), rules)  # one line per record as it is scored
            sys.stdout.flush()
        else:
            buffer = io.StringIO()
            writer(buffer, results, rules)
            progress.writing = True
            sys.stdout.write(buffer.getvalue())
            sys.stdout.flush()
    except _RecordFailed as exc:
        _fail(f"{exc}; {progress.told()}", code=3)
    except BrokenPipeError:
        if output is not None:
            _fail(f"{output}: cannot write (broken pipe)")
        # Whoever reads standard output stopped reading (`| head`): stop quietly, as mature tools do.
        _silence_stdout()
        raise typer.Exit(141) from None
    except OSError as exc:
        if output is None:
            _silence_stdout()
        _fail(f"{output or 'standard output'}: cannot write ({exc.strerror or exc.__class__.__name__})")


def _silence_stdout() -> None:
    """Point standard output at the null device, so that Python's flush at exit, with the
    unwritten rest still buffered, reports nothing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file descriptor (a test runner's captured stream)
        pass


class _RecordFailed(Exception):
    pass


def _audited(auditor: Any, batch: list[tuple[str, int, Record]], size: int = 64) -> Iterator[RecordResult]:
    """Results in input order, scored a batch at a time (the classifier runs once per batch)."""
    for first in range(0, len(batch), size):
        chunk = batch[first : first + size]
        try:
            results = auditor.audit_batch([record for _file, _row, record in chunk])
        except Exception:
            # A bug, not bad input: find the record that causes it, and say where, never what it says.
            for file, row, record in chunk:
                try:
                    auditor.audit(record)
                except Exception as exc:
                    raise _RecordFailed(
                        f"{file}, row {row}, record {record.id!r}: internal error ({exc.__class__.__name__})"
                    ) from None
            raise _RecordFailed("internal error in a batch") from None
        yield from results


# ---------------------------------------------------------------------------------------------
# Writers


def _write_jsonl(out: TextIO, results: Iterable[RecordResult], rules: RuleBook) -> None:
    for result in results:
        out.write(json.dumps(result.contract(), ensure_ascii=False) + "\n")
        out.flush()


def _write_json(out: TextIO, results: Iterable[RecordResult], rules: RuleBook) -> None:
    records = []
    for result in results:
        records.append(
            {
                "id": result.id,
                "score": result.score,
                "grade": result.grade.value,
                "findings": [f.detailed() for f in result.findings],
            }
        )
    document = {
        "auditor_version": __version__,
        "rules_version": rules.version(),
        "summary": summarise(records),
        "records": records,
    }
    json.dump(document, out, ensure_ascii=False, indent=2)
    out.write("\n")


CSV_COLUMNS = [
    "id",
    "score",
    "grade",
    "rule_id",
    "category",
    "severity",
    "start",
    "end",
    "text",
    "message",
    "suggestion",
]


def _write_csv(out: TextIO, results: Iterable[RecordResult], rules: RuleBook) -> None:
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for result in results:
        head = [result.id, result.score, result.grade.value]
        if not result.findings:
            writer.writerow([spreadsheet_safe(v) for v in head + [""] * 8])
        for finding in result.findings:
            c = finding.contract()
            row = [
                *head,
                c["rule_id"],
                c["category"],
                c["severity"],
                c["start"],
                c["end"],
                c["text"],
                c["message"],
                c["suggestion"],
            ]
            writer.writerow([spreadsheet_safe(v) for v in row])


def _write_table(out: TextIO, results: Iterable[RecordResult], rules: RuleBook) -> None:
    grades: Counter[str] = Counter()
    total = 0
    for result in results:
        total += 1
        grades[result.grade.value] += 1
        out.write(f"{result.id}  score {result.score}  {result.grade.value}  ({len(result.findings)} findings)\n")
        for finding in result.findings:
            where = "whole record" if finding.start == finding.end else f"{finding.start}-{finding.end}"
            words = f' "{_one_line(finding.text)}"' if finding.text else ""
            out.write(f"  {finding.rule_id} {finding.severity.value:<6} {finding.category.value} [{where}]{words}\n")
            out.write(f"      {finding.message}\n      Instead: {finding.suggestion}\n")
        out.write("\n")
    summary = ", ".join(f"{grades[g.value]} {g.value}" for g in Grade)
    out.write(f"{total} records: {summary}\n")


def _one_line(text: str, limit: int = 90) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


_WRITERS: dict[OutputFormat, Callable[[TextIO, Iterable[RecordResult], RuleBook], None]] = {
    OutputFormat.jsonl: _write_jsonl,
    OutputFormat.json: _write_json,
    OutputFormat.csv: _write_csv,
    OutputFormat.table: _write_table,
}


# ---------------------------------------------------------------------------------------------
# Rules and benchmark


@app.command("rules")
def list_rules(
    output_format: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
    rules_dir: Annotated[Path | None, typer.Option("--rules", help="Folder of rule files.")] = None,
) -> None:
    """List the rule catalogue: id, name, category, severity, record types and citation."""
    try:
        rules = RuleBook.load(rules_dir)
    except RuleFileError as exc:
        _fail(str(exc))
    if output_format == "json":
        catalogue = [r.catalogue() for r in rules]
        typer.echo(json.dumps({"rules_version": rules.version(), "rules": catalogue}, indent=2, ensure_ascii=False))
        return
    if output_format != "table":
        _fail("--format must be table or json")
    for rule in rules:
        typer.echo(
            f"{rule.id}  {rule.name:<38} {rule.category.value:<30} {rule.severity.value:<6} {', '.join(t.value for t in rule.applies_to)}"
        )
        typer.echo(f"       {rule.message}")
        typer.echo(f"       cites: {rule.citation.source}, {rule.citation.paragraph}")
    typer.echo(f"{len(rules)} rules, rule set {rules.version()}")


@app.command()
def bench(
    words: Annotated[int, typer.Option(help="Approximate corpus size in words.")] = 200_000,
    repeats: Annotated[int, typer.Option(help="Timed passes of each measurement; the best is kept.")] = 3,
) -> None:
    """Measure tokenization-only and full-audit throughput on the same corpus, in one run."""
    from auditor.bench import run

    run(words=words, repeats=repeats, out=sys.stdout)


@app.command()
def split() -> None:
    """Write the corpus's train/dev/test split (split.json); existing test ids stay frozen."""
    from auditor.corpus import CorpusError, load_actions, load_decisions, write_split

    try:
        ids = [item.id for item in load_actions()] + [item.id for item in load_decisions()]
    except CorpusError as exc:
        _fail(str(exc))
    path = write_split(ids)
    typer.echo(f"wrote {path} for {len(ids)} items")


@app.command()
def train(
    seed: Annotated[int, typer.Option(help="Random seed; the same seed and corpus give the same model.")] = 0,
    output: Annotated[
        Path | None, typer.Option(help="Folder for the models and model card (default: models/).")
    ] = None,
) -> None:
    """Train the classifier on the train split, choose thresholds on dev, report on test."""
    from auditor.classifier import models_dir, save
    from auditor.corpus import CorpusError
    from auditor.evaluation import evaluate, format_results, model_card
    from auditor.evaluation import train as fit

    target = output or models_dir()
    try:
        models = fit(seed)
    except (CorpusError, FileNotFoundError) as exc:
        _fail(str(exc))
    save(models, target)
    model_card(models, evaluate(models, "test"), target / "MODEL_CARD.md")
    # What training chose things by: dev. The test figures are in the model card and `auditor evaluate`.
    typer.echo("dev split (thresholds were chosen here):")
    typer.echo(format_results(evaluate(models, "dev")))
    typer.echo(f"saved to {target}; test-split figures in {target / 'MODEL_CARD.md'}")


@app.command()
def evaluate(
    split_name: Annotated[str, typer.Option("--split", help="test (default) or dev")] = "test",
    by_part: Annotated[
        bool,
        typer.Option(
            "--by-part",
            help="Instead: how the decision model does on each written part of train and dev left out "
            "in turn: the categories learnt directly against their factors, and the factors alone "
            "against combined with the rules (fits three pipelines per part, under a minute).",
        ),
    ] = False,
) -> None:
    """Per-category precision, recall and F1 for the rules alone, the model alone, and combined."""
    if by_part:
        from auditor.evaluation import leave_parts_out

        for name, f1 in leave_parts_out().items():
            typer.echo(name)
            typer.echo("  " + "  ".join(f"{target} F1 {value:.3f}" for target, value in f1.items()))
        return
    from auditor.classifier import load
    from auditor.evaluation import decision_test_groups, format_results
    from auditor.evaluation import evaluate as measure

    if split_name not in ("test", "dev"):
        _fail("--split must be test or dev")
    try:
        models = load()
    except (OSError, ValueError) as exc:
        where = getattr(exc, "filename", None) or "the models folder"
        _fail(f"{where}: the trained model cannot be loaded ({exc.__class__.__name__}): run `auditor train`")
    typer.echo(format_results(measure(models, split_name)))  # type: ignore[arg-type]
    if split_name == "test":
        (earlier_parts, earlier), (held_parts, later) = decision_test_groups(models)
        typer.echo(f"\nof which, the decision entries hashed into test before any model ({earlier_parts}):")
        typer.echo(format_results(earlier))
        typer.echo(f"\nof which, the decision entries written as a held-out test set ({held_parts}):")
        typer.echo(format_results(later))


# ---------------------------------------------------------------------------------------------
# The service (the `api` package; imported only by these commands)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(help="Scoring processes beside the service's own (one per core is usual).")
    ] = 1,
    samples: Annotated[
        Path | None,
        typer.Option("--samples", help="Score this file of records into an audit at start-up, once."),
    ] = None,
    access_log: Annotated[
        bool, typer.Option(help="Log a line per request (client, method, path, status, time; no query string).")
    ] = True,
) -> None:
    """Run the audit service (FastAPI on uvicorn). Storage: AUDITOR_DATABASE_URL, else an SQLite
    file in AUDITOR_DATA_DIR (default ~/.local/share/auditor); migrations run at start-up."""
    import uvicorn

    from api.app import create_app, load_samples
    from api.db import database_url
    from auditor.engine import Auditor

    url = database_url()
    if samples is not None and not samples.is_file():
        _fail(f"{samples}: no such file")
    if workers < 1:
        _fail("--workers must be at least 1")
    auditor = Auditor()  # the service's own: the rule catalogue, versions, and the samples
    with _database(url) as engine:  # migrated, and the samples scored, before serving
        if samples is not None:
            try:
                audit_id, created = load_samples(engine, auditor, samples)
            except InputError as exc:
                _fail(str(exc))
            typer.echo(f"sample records {'scored into' if created else 'already in'} audit {audit_id}")
    typer.echo(
        f"auditor {__version__}: serving on http://{host}:{port} (the report at /report, API docs at /docs); "
        f"database: {_safe_url(url)}"
    )
    # One service process (HTTP, storage, the job worker) and `workers` scoring processes that
    # share the requests between them (api/scoring.py). The app logs each request itself, without
    # the query string, which uvicorn's access log prints.
    service = create_app(url, auditor=auditor, scorers=workers, access_log=access_log)
    uvicorn.run(service, host=host, port=port, log_level="info", access_log=False)


# Records a scoring process scores before it is replaced by a fresh one: it grows by about 3 MB a
# thousand records of notes full of new words (spaCy's vocabulary and tokenizer cache keep every
# word), and replacing the processes takes about 6 s (some 5% of the time at 25,000 records
# each), while a process stays under about 340 MB (measured with auditor.batchbench, README).
RECYCLE_RECORDS = 25_000


class LogFormat(StrEnum):
    auto = "auto"
    json = "json"
    bar = "bar"


@app.command()
def batch(
    inputs: Annotated[
        list[Path],
        typer.Argument(
            metavar="INPUT...", help="CSV, TSV, XLSX, JSONL or Parquet exports, or folders of them, read in order."
        ),
    ],
    profile: Annotated[
        str, typer.Option("--profile", "-p", help="Column-mapping profile: a shipped one's name, or a YAML file.")
    ] = "generic",
    workers: Annotated[int, typer.Option(help="Scoring processes (one per core is usual).")] = 1,
    chunk_rows: Annotated[
        int, typer.Option("--chunk-rows", help="Rows per checkpoint (each chunk is stored in one transaction).")
    ] = 1000,
    rescore_all: Annotated[
        bool, typer.Option("--rescore-all", help="Score every record, changed or not (a new run's audits hold all).")
    ] = False,
    summary_file: Annotated[Path | None, typer.Option("--summary", help="Write the run's summary here (JSON).")] = None,
    parquet: Annotated[
        Path | None,
        typer.Option("--parquet", help="Write the run's records, findings and quarantine under this folder."),
    ] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write the run's HTML report to this file.")] = None,
    log_format: Annotated[
        LogFormat, typer.Option("--log", help="Progress: a bar on a terminal and JSON lines otherwise (auto).")
    ] = LogFormat.auto,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Case-level checks as of this date (YYYY-MM-DD; default today).")
    ] = None,
    oversight_days: Annotated[
        int | None,
        typer.Option(
            "--oversight-days", help="Management oversight must be this recent on a long CP plan (default 90)."
        ),
    ] = None,
) -> None:
    """Score whole exports into the service's database: only new and changed records are scored,
    a killed run resumes where it stopped, and malformed rows are quarantined with their reason.
    Exit status: 0 done; 4 done, with rows quarantined; 6 done, but the inputs held no rows; 2
    unreadable input or options (nothing written); 5 another batch run is in progress; 130
    interrupted, 143 terminated (run it again to resume)."""
    from api.scoring import ScoringPool, ScoringUnavailable
    from auditor.batch import EXIT_BUSY, BatchBusy, LeaseLost, run_batch
    from auditor.batchlog import JsonLog, ProgressBar
    from auditor.cases import Settings
    from auditor.profiles import ProfileError, load_profile
    from auditor.tables import TableError, expand_inputs

    if workers < 1:
        _fail("--workers must be at least 1")
    if chunk_rows < 1:
        _fail("--chunk-rows must be at least 1")
    if oversight_days is not None and oversight_days < 1:
        _fail("--oversight-days must be at least 1")
    try:
        as_of_date = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        _fail("--as-of must be a date written YYYY-MM-DD")
    try:
        chosen = load_profile(profile)
    except ProfileError as exc:
        _fail(str(exc))
    try:
        inputs = expand_inputs(inputs)
    except TableError as exc:
        _fail(str(exc))
    # Exports are read a chunk at a time; pyarrow's default allocator (mimalloc) keeps the memory
    # of chunks read long ago (about 28 MB over a run), the system's gives it back.
    import pyarrow

    pyarrow.set_memory_pool(pyarrow.system_memory_pool())
    # Scoring runs in processes of its own, even with one worker, replaced by fresh ones after
    # RECYCLE_RECORDS records each, so memory stays flat however many new words the notes bring.
    pool = scorer = ScoringPool(workers, recycle_after=RECYCLE_RECORDS * workers)
    finished: str | None = None  # the run, once it is stored whole
    # SIGTERM (systemd's stop, a container's) stops the run as Ctrl-C does, the lease released;
    # either waits while a chunk is being stored (auditor.stops).
    handlers = stops.install()
    try:
        try:
            pool.start()
        except RuntimeError as exc:
            _fail(f"{exc} (set AUDITOR_DEBUG=1, or run `auditor check` on one file, to see why)")
        versions = pool.versions()
        bar = log_format is LogFormat.bar or (log_format is LogFormat.auto and sys.stderr.isatty())
        reporter: Any = ProgressBar() if bar else JsonLog()
        with _database() as engine:
            try:
                with reporter if bar else nullcontext():
                    result = run_batch(
                        engine,
                        scorer,
                        versions,
                        inputs,
                        chosen,
                        chunk_rows=chunk_rows,
                        rescore_all=rescore_all,
                        reporter=reporter,
                        as_of=as_of_date,
                        case_settings=Settings(oversight_days),
                    )
            except TableError as exc:
                _fail(f"{exc}\nnothing was written")
            except (BatchBusy, LeaseLost) as exc:
                _fail(str(exc), EXIT_BUSY)
            except ScoringUnavailable:
                _fail(
                    "the scoring processes stopped (killed, or out of memory); every chunk stored so far is "
                    "kept: run the same command again to resume",
                    3,
                )
            finished = result.run_id
            _run_outputs(engine, result.run_id, summary_file, parquet, report)
    except KeyboardInterrupt as stop:
        if finished is None:
            told = "every chunk stored so far is kept: run the same command again to resume"
        else:
            told = (
                f"run {finished} is stored whole, but its files may not all be written: "
                f"`auditor runs {finished} --summary/--parquet/--report` writes them"
            )
        typer.echo(
            f"auditor: {'terminated' if isinstance(stop, stops.Terminated) else 'interrupted'}; {told}", err=True
        )
        raise typer.Exit(143 if isinstance(stop, stops.Terminated) else 130) from None
    finally:
        pool.shutdown()
        stops.restore(handlers)
    raise typer.Exit(result.exit_status)


def _run_outputs(
    engine: Any, run_id: str, summary_file: Path | None, parquet: Path | None, report: Path | None
) -> None:
    """Print the run's summary, and write the files asked for; exit 2 naming one that cannot be."""
    from auditor.batchout import summary, summary_lines, write_parquet, write_summary

    data = summary(engine, run_id)
    for line in summary_lines(data):
        typer.echo(line)
    target = None
    try:
        if summary_file is not None:
            target = summary_file
            summary_file.parent.mkdir(parents=True, exist_ok=True)
            write_summary(data, summary_file)
        if parquet is not None:
            target = parquet
            typer.echo(f"  parquet: {write_parquet(engine, run_id, parquet)}")
        if report is not None:
            from api.runreport import write_run_report

            target = report
            report.parent.mkdir(parents=True, exist_ok=True)
            write_run_report(engine, run_id, report)
            typer.echo(f"  report: {report}")
    except OSError as exc:
        _fail(
            f"{target}: cannot be written ({exc.strerror or exc.__class__.__name__}); the run itself is stored: "
            f"`auditor runs {run_id} --summary/--parquet/--report` writes its files again"
        )


@app.command()
def runs(
    run_id: Annotated[str | None, typer.Argument(help="A run's id (or its start); without one, list the runs.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run's whole summary as JSON.")] = False,
    summary_file: Annotated[Path | None, typer.Option("--summary", help="Write the run's summary here (JSON).")] = None,
    parquet: Annotated[
        Path | None, typer.Option("--parquet", help="Write the run's Parquet files under this folder.")
    ] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Write the run's HTML report to this file.")] = None,
    limit: Annotated[int, typer.Option(help="How many runs to list, newest first.")] = 20,
) -> None:
    """List batch runs, or show one (its summary, with every quarantined row), and write its files again."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from api.db import BatchRun, utc
    from auditor.batchout import RunNotFound, find_run, iter_quarantined, quarantine_line, summary, summary_lines

    with _database() as engine:
        if run_id is None and not (as_json or summary_file or parquet or report):
            with Session(engine) as s:
                rows = list(s.scalars(select(BatchRun).order_by(BatchRun.started_at.desc()).limit(limit)))
            for run in rows:
                c = run.counts
                scored = c.get("new", 0) + c.get("changed", 0) + c.get("rescored", 0)
                typer.echo(
                    f"{run.id}  {utc(run.started_at):%Y-%m-%d %H:%M}  {run.status:<9} rows {c.get('rows', 0):>9,}  "
                    f"scored {scored:>9,}  quarantined {c.get('quarantined', 0):>7,}  {run.profile}"
                )
            typer.echo(f"{len(rows)} run(s)")
            return
        try:
            found = find_run(engine, run_id)
        except RunNotFound as exc:
            _fail(str(exc))
        if as_json:
            typer.echo(json.dumps(summary(engine, found.id), indent=2, ensure_ascii=False))
        elif summary_file or parquet or report:
            _run_outputs(engine, found.id, summary_file, parquet, report)
        else:  # the run, with every row it quarantined
            for line in summary_lines(summary(engine, found.id), shown=0):
                typer.echo(line)
            for q in iter_quarantined(engine, found.id):
                typer.echo("  " + quarantine_line(q))


@contextmanager
def _database(url: str | None = None) -> Iterator[Any]:
    """The service's database, migrated, as an engine; one that cannot be reached stops the
    command with exit 2, naming the database (never its password)."""
    from sqlalchemy.exc import OperationalError

    from api.db import database_url, make_engine, migrate

    url = url or database_url()
    engine = make_engine(url)
    try:
        try:
            migrate(engine)
        except OperationalError:
            _fail(f"database {_safe_url(url)}: cannot be reached or opened")
        yield engine
    finally:
        engine.dispose()


def _safe_url(url: str) -> str:
    """A database URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


keys_app = typer.Typer(help="Create and revoke the service's API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="auditor, manager or admin.")],
    name: Annotated[str, typer.Option(help="Who or what the key is for.")],
    team: Annotated[list[str] | None, typer.Option(help="A team a manager may read (repeatable).")] = None,
) -> None:
    """Create a key and print it once: it is stored only as a digest."""
    from sqlalchemy.orm import Session

    from api.keys import Role, create_key

    try:
        chosen = Role(role)
    except ValueError:
        _fail("--role must be auditor, manager or admin")
    with _database() as engine, Session(engine) as s:
        try:
            key, row = create_key(s, chosen, name, team)
        except ValueError as exc:
            _fail(str(exc))
        s.commit()
        typer.echo(
            f"key {row.id} ({chosen.value}{': ' + ', '.join(t.team for t in row.teams) if row.teams else ''}) for {name}:"
        )
    typer.echo(key)
    typer.echo("Keep it now: it cannot be shown again.", err=True)


@keys_app.command("list")
def keys_list() -> None:
    """List the keys: number, role, teams, name, and whether revoked (never the keys themselves)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from api.db import ApiKey

    with _database() as engine, Session(engine) as s:
        rows = list(s.scalars(select(ApiKey).order_by(ApiKey.id)))
        for row in rows:
            teams = ", ".join(sorted(t.team for t in row.teams)) or "-"
            state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "live"
            typer.echo(f"{row.id:>4}  {row.role:<8} {state:<18} {teams:<30} {row.name}")
    typer.echo(f"{len(rows)} key(s)")


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[int, typer.Argument(help="The key's number, as `keys create` printed it.")]) -> None:
    """Revoke a key: it stops working at once."""
    from sqlalchemy.orm import Session

    from api.keys import revoke_key

    with _database() as engine, Session(engine) as s:
        if not revoke_key(s, key_id):
            _fail(f"no live key {key_id}")
        s.commit()
    typer.echo(f"key {key_id} revoked")


def main() -> None:
    """Entry point: never show a traceback to the user."""
    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        # Commands that write say for themselves how far they got (`check`); this is only reached
        # outside one, where this function cannot know, so it claims nothing.
        typer.echo("auditor: interrupted", err=True)
        raise SystemExit(130) from None
    except Exception as exc:
        if os.environ.get("AUDITOR_DEBUG"):
            raise
        typer.echo(f"auditor: internal error ({exc.__class__.__name__}); set AUDITOR_DEBUG=1 for details", err=True)
        raise SystemExit(3) from None


if __name__ == "__main__":
    main()
