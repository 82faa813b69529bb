"""The `partnerqa` command line: ingest, remove, docs, search, ask, serve, eval, bench."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ingest.embedder import configure_threads

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NO_INDEX = 3
EXIT_BAD_INDEX = 4
EXIT_BAD_PATH = 5


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        self.exit(EXIT_USAGE, f"partnerqa: error: {message}\n")


def _port(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {s!r}") from None
    if not 1 <= v <= 65535:
        raise argparse.ArgumentTypeError(f"must be in 1..65535, got {s}")
    return v


def _positive_int(s: str) -> int:
    v = int(s)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {s}")
    return v


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="partnerqa", description="Document QA with checkable citations.")
    p.add_argument("--index", help="index folder (default: $PARTNERQA_INDEX or .partnerqa/index)")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    p.add_argument("--backend", choices=["faiss", "milvus"], help="where the index lives (default: $PARTNERQA_BACKEND "
                   "or faiss)")
    p.add_argument("--encoder", choices=["torch", "onnx", "onnx-int8"], default=None,
                   help="runtime of the embedding model (default: $PARTNERQA_ENCODER or onnx)")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def index_opt(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--index", default=argparse.SUPPRESS, help="index folder")
        sp.add_argument("--backend", choices=["faiss", "milvus"], default=argparse.SUPPRESS,
                        help="where the index lives: faiss (the index folder) or milvus (PARTNERQA_MILVUS_URI)")

    sp = sub.add_parser("ingest", help="ingest files or folders into the index (default: seeds/)")
    sp.add_argument("paths", nargs="*", default=["seeds"], help="files or folders")
    sp.add_argument("--prune", action="store_true", help="remove documents that are gone from the given folders")
    sp.add_argument("--rebuild", action="store_true", help="ignore the existing index and build it anew")
    sp.add_argument("--json", action="store_true", help="print the report as JSON")
    sp.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                    help="chunk and embed with Ray Data: a local cluster, or the one at ADDRESS "
                         "(ray://host:10001 or auto); needs the ray extra")
    index_opt(sp)

    sp = sub.add_parser("remove", help="remove documents from the index by doc id")
    sp.add_argument("doc_ids", nargs="+")
    index_opt(sp)

    sp = sub.add_parser("docs", help="list what the index holds")
    sp.add_argument("--json", action="store_true")
    index_opt(sp)

    sp = sub.add_parser("search", help="retrieve passages for a question")
    sp.add_argument("question")
    sp.add_argument("-k", type=_positive_int, default=None, help="passages to return")
    sp.add_argument("--mode", choices=["hybrid", "dense", "keyword"], default=None)
    sp.add_argument("--doc", action="append", help="only search this doc id (repeatable)")
    sp.add_argument("--json", action="store_true")
    index_opt(sp)

    sp = sub.add_parser("ask", help="answer a question with citations")
    sp.add_argument("question")
    sp.add_argument("-k", type=_positive_int, default=None)
    sp.add_argument("--mode", choices=["hybrid", "dense", "keyword"], default=None)
    sp.add_argument("--answer-mode", choices=["extractive", "openai", "gguf"], default=None)
    sp.add_argument("--json", action="store_true")
    index_opt(sp)

    sp = sub.add_parser("serve", help="start the web chat (builds the index from seeds/ if missing)")
    sp.add_argument("--host", default="127.0.0.1")
    sp.add_argument("--port", type=_port, default=7860)
    sp.add_argument("--seeds", default="seeds", help="folder to ingest when no index exists")
    index_opt(sp)

    sp = sub.add_parser("eval", help="run the QA benchmark", add_help=False)
    sp.add_argument("rest", nargs=argparse.REMAINDER)
    sp = sub.add_parser("bench", help="measure speed against stock LangChain and the hardware", add_help=False)
    sp.add_argument("rest", nargs=argparse.REMAINDER)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    configure_threads()  # before anything imports torch
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parse(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    from ingest.errors import (
        ConfigError,
        IndexCorruptError,
        IndexMismatchError,
        IndexNotFoundError,
        NotAnIndexError,
        PartnerQAError,
    )

    try:
        return _dispatch(args)
    except IndexNotFoundError as e:
        return _fail(str(e), EXIT_NO_INDEX)
    except (IndexMismatchError, IndexCorruptError) as e:
        return _fail(str(e), EXIT_BAD_INDEX)
    except (ConfigError, NotAnIndexError) as e:
        return _fail(str(e), EXIT_USAGE)
    except PartnerQAError as e:
        return _fail(str(e), EXIT_ERROR)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except OSError as e:  # disk full, read-only folder, no permission: what the system said, on one line
        where = f": {e.filename}" if e.filename else ""
        return _fail(f"{e.strerror or e}{where}", EXIT_ERROR)
    except Exception as e:  # the README promises one-line errors; -v keeps the traceback
        logging.getLogger("partnerqa").info("unexpected error", exc_info=True)  # shown with -v
        return _fail(f"unexpected {type(e).__name__}: {e} (run with -v for details)", EXIT_ERROR)


def _parse(argv: list[str]) -> argparse.Namespace:
    """Parse argv; everything after `eval`/`bench` goes to that tool untouched.

    argparse's REMAINDER does not capture a leading option (`eval --limit 2`), so the
    split is done here: global options, the subcommand, then the tool's own arguments.
    """
    i = 0
    while i < len(argv):
        if argv[i] in ("--index", "--backend", "--encoder"):
            i += 2
        elif argv[i].startswith(("--index=", "--backend=", "--encoder=")) or argv[i] in ("-v", "--verbose"):
            i += 1
        else:
            break
    if i < len(argv) and argv[i] in ("eval", "bench"):
        args = build_parser().parse_args(argv[: i + 1])
        args.rest = argv[i + 1 :]
        return args
    return build_parser().parse_args(argv)


def _fail(msg: str, code: int) -> int:
    print(f"partnerqa: error: {msg.splitlines()[0] if msg else 'failed'}", file=sys.stderr)
    return code


def _settings(args: argparse.Namespace):
    from ingest.settings import Settings

    return Settings.from_env(index=getattr(args, "index", None), backend=getattr(args, "backend", None),
                             encoder=getattr(args, "encoder", None))


def _dispatch(args: argparse.Namespace) -> int:
    cmd = args.command
    if getattr(args, "encoder", None):  # eval and bench read it from the environment, as do bench's workers
        os.environ["PARTNERQA_ENCODER"] = args.encoder
    if cmd in ("eval", "bench"):
        rest = list(args.rest)
        if getattr(args, "index", None):
            rest = ["--index", args.index, *rest]
        backend = getattr(args, "backend", None)
        for j, a in enumerate(list(rest)):  # `eval --backend milvus`: the tools read it from the environment
            if a.startswith("--backend="):
                backend, rest = a.split("=", 1)[1], rest[:j] + rest[j + 1:]
                break
            if a == "--backend" and j + 1 < len(rest):
                backend, rest = rest[j + 1], rest[:j] + rest[j + 2:]
                break
        if backend:
            os.environ["PARTNERQA_BACKEND"] = backend
        if cmd == "eval":
            from eval.runner import main as eval_main
        else:
            from eval.bench import main as eval_main
        return int(eval_main(rest) or 0)
    settings = _settings(args)
    if cmd == "ingest":
        return _ingest(args, settings)
    if cmd == "remove":
        from ingest.backend import open_store
        from ingest.pipeline import Ingestor

        if not open_store(settings).exists():
            from ingest.errors import IndexNotFoundError

            raise IndexNotFoundError(f"no index at {open_store(settings).location} (run: partnerqa ingest)")
        report = Ingestor.from_settings(settings).remove(args.doc_ids)
        print(report.summary())
        missing = ", ".join(d for d, _ in report.skipped)
        if not report.removed:
            return _fail(f"not in the index: {missing} (see: partnerqa docs)", EXIT_ERROR)
        if missing:
            print(f"partnerqa: warning: not in the index: {missing}", file=sys.stderr)
        return EXIT_OK
    if cmd == "docs":
        from ingest.backend import open_store

        snap = open_store(settings).load()
        rows = []
        for d in sorted(snap.docs.values(), key=lambda d: d.doc_id):
            rows.append({"doc_id": d.doc_id, "title": d.title, "chunks": d.n_chunks,
                         "pages": d.metadata.get("pages") or None, "added_at": d.added_at, "updated_at": d.updated_at,
                         "publisher": d.metadata.get("publisher", ""), "date": d.metadata.get("date", ""),
                         "url": d.metadata.get("url", "")})
        if args.json:
            print(json.dumps(rows, indent=2, ensure_ascii=False))
        else:
            _table(rows, ["doc_id", "title", "chunks", "pages", "added_at"])
        return EXIT_OK
    if cmd == "search":
        from rag import Retriever

        r = Retriever.load(settings=settings)
        filters = {"doc_id": args.doc} if args.doc else None
        hits = r.search(args.question, args.k, mode=args.mode, filters=filters)
        if args.json:
            print(json.dumps([h.to_dict() for h in hits], indent=2, ensure_ascii=False))
        else:
            for i, h in enumerate(hits, 1):
                page = f" p.{h.page}" if h.page else ""
                print(f"[{i}] {h.title} ({h.doc_id}{page}, {h.start}-{h.end}) score={h.score:.4f}")
                print("    " + h.text.replace("\n", " ")[:300])
        return EXIT_OK
    if cmd == "ask":
        from rag import Answerer

        a = Answerer.load(settings=settings, answer_mode=args.answer_mode)
        ans = a.answer(args.question, k=args.k, mode=args.mode)
        if args.json:
            print(json.dumps(ans.to_dict(), indent=2, ensure_ascii=False))
        else:
            print(format_answer(ans, bold=sys.stdout.isatty()))
        return EXIT_OK
    if cmd == "serve":
        _check_port(args.host, args.port)  # before the model loads: a taken port fails in a second, not after
        from ui.app import serve

        return int(serve(settings, host=args.host, port=args.port, seeds=Path(args.seeds)) or 0)
    raise AssertionError(cmd)


def _check_port(host: str, port: int) -> None:
    """Fail now, on one line, if the web server could not bind `host:port` (taken, or not this machine's)."""
    import socket

    from ingest.errors import ConfigError, PartnerQAError

    try:
        family, kind, proto, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as e:
        raise ConfigError(f"cannot serve on host {host!r}: {e.strerror}") from None
    with socket.socket(family, kind, proto) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server itself does
        try:
            s.bind(addr)
        except OSError as e:
            raise PartnerQAError(f"cannot serve on {host}:{port}: {e.strerror} (another server there? "
                                 "choose another --port)") from None


def _ingest(args: argparse.Namespace, settings) -> int:
    from ingest.backend import open_store
    from ingest.pipeline import Ingestor

    ray = getattr(args, "ray", None)
    if ray and ray not in ("local", "auto") and "://" not in ray and Path(ray).exists():
        args.paths, ray = [ray, *([] if args.paths == ["seeds"] else args.paths)], "local"  # `--ray DIR`
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing and len(missing) == len(args.paths):
        return _fail(f"no such file or folder: {', '.join(missing)}", EXIT_BAD_PATH)
    if ray:
        from ingest.ray_ingest import RayIngestor, RayRunner

        ingestor: Ingestor = RayIngestor.from_settings(settings, runner=RayRunner(None if ray == "local" else ray))
    else:
        ingestor = Ingestor.from_settings(settings)
    report = ingestor.ingest(args.paths, prune=args.prune, rebuild=args.rebuild, progress=sys.stderr.isatty())
    if args.json:
        from dataclasses import asdict

        print(json.dumps(asdict(report), indent=2, ensure_ascii=False))
    else:
        print(report.summary())
        print(f"index: {open_store(settings).location if settings.backend != 'faiss' else settings.index}")
    return EXIT_OK


def format_answer(ans, *, bold: bool = False) -> str:
    """The short answer (bold on a terminal), the cited sentences, then the sources, as plain text."""
    lines = []
    if ans.short:
        short = " ".join(ans.short.split())  # a span of wrapped PDF text keeps its line break in the quote only
        lines += [f"\033[1m{short}\033[0m" if bold else f"Answer: {short}", ""]
    lines += [ans.text, ""]
    if ans.notice:
        lines += [ans.notice, ""]
    if ans.scope:
        lines.append(f"Only in: {ans.scope['description']} ({', '.join(ans.scope['doc_ids'])})")
    if ans.searched_for:
        lines.append(f"Searched for: {ans.searched_for}")
    if ans.scope or ans.searched_for:
        lines.append("")
    if ans.abstained and ans.related:
        lines.append("Related, but not an answer:")
        for h in ans.related:
            lines.append(f"  - {h.title} ({h.doc_id}): {h.text[:200].replace(chr(10), ' ')}")
    for c in ans.citations:
        where = f", p.{c.page}" if c.page else ""
        meta = ", ".join(x for x in (c.publisher, c.date) if x)
        lines.append(f"[{c.n}] {c.title}{' — ' + meta if meta else ''} ({c.doc_id}{where}, chars {c.start}-{c.end})")
        if c.context:
            lines.append(f"    columns: {c.context}")
        lines.append(f"    \"{c.quote}\"")
    return "\n".join(lines).rstrip()


def _table(rows: list[dict], cols: list[str]) -> None:
    if not rows:
        print("(the index is empty)")
        return
    widths = {c: min(48, max(len(c), *(len(str(r.get(c) or "")) for r in rows))) for c in cols}
    print("  ".join(c.ljust(widths[c]) for c in cols))
    for r in rows:
        print("  ".join(str(r.get(c) or "")[: widths[c]].ljust(widths[c]) for c in cols))


if __name__ == "__main__":
    sys.exit(main())
