"""The partnerqa command line, in process and as the installed console script."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ui.cli import EXIT_BAD_INDEX, EXIT_BAD_PATH, EXIT_NO_INDEX, EXIT_USAGE, main

REPO = Path(__file__).resolve().parents[1]


def test_missing_index_is_one_line_and_exit_3(tmp_path, capsys):
    assert main(["--index", str(tmp_path / "none"), "docs"]) == EXIT_NO_INDEX
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no index" in err and "partnerqa ingest" in err


def test_bad_argument_exit_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(["search", "q", "-k", "0"])
    assert e.value.code == EXIT_USAGE
    assert "must be >= 1" in capsys.readouterr().err


def test_unreadable_path_exit_5(tmp_path, capsys):
    assert main(["--index", str(tmp_path / "idx"), "ingest", str(tmp_path / "nope")]) == EXIT_BAD_PATH
    assert "no such file" in capsys.readouterr().err


@pytest.mark.model
def test_ingest_search_ask_docs_remove(tmp_path, capsys):
    seeds = tmp_path / "seeds"
    shutil.copytree(REPO / "seeds", seeds)
    idx = str(tmp_path / "idx")
    assert main(["--index", idx, "ingest", str(seeds), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert len(report["added"]) == 5 and report["skipped"] == []

    assert main(["--index", idx, "ingest", str(seeds)]) == 0
    assert "unchanged 5" in capsys.readouterr().out

    assert main(["--index", idx, "search", "Vera Rubin AI factory", "-k", "3", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 3
    for key in ("chunk_id", "doc_id", "title", "page", "start", "end", "text", "score", "dense_score", "dense_rank",
                "bm25_score", "bm25_rank"):
        assert key in hits[0]

    assert main(["--index", idx, "ask", "About how many advanced chips were agreed at APEC?", "--json"]) == 0
    ans = json.loads(capsys.readouterr().out)
    assert set(ans) >= {"question", "answer", "abstained", "citations", "timings_ms"}
    assert not ans["abstained"] and "260,000" in ans["answer"].split("[1]")[0]
    c = ans["citations"][0]
    assert set(c) >= {"n", "doc_id", "title", "page", "start", "end", "quote"}
    text = (seeds / c["doc_id"]).read_text()
    assert c["quote"] in text

    assert main(["--index", idx, "ask", "What is the capital of Australia?"]) == 0
    assert "do not contain the answer" in capsys.readouterr().out

    assert main(["--index", idx, "docs", "--json"]) == 0
    docs = json.loads(capsys.readouterr().out)
    assert {d["doc_id"] for d in docs} == {p.name for p in seeds.glob("*.txt")}
    assert all(d["chunks"] > 0 and d["added_at"] for d in docs)

    (seeds / "wikipedia_bae_kyung-hoon.txt").unlink()
    assert main(["--index", idx, "ingest", str(seeds), "--prune"]) == 0
    assert "removed: wikipedia_bae_kyung-hoon.txt" in capsys.readouterr().out
    assert main(["--index", idx, "remove", "us_wh_tpd_mou_2025-10-29.txt"]) == 0
    capsys.readouterr()
    assert main(["--index", idx, "docs", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 3


@pytest.mark.model
def test_index_from_another_embedder_is_refused(tmp_path, capsys):
    from support import HashEmbedder

    from ingest.pipeline import Ingestor

    d = tmp_path / "d"
    d.mkdir()
    (d / "a.txt").write_text("Some text about chips.")
    Ingestor(tmp_path / "idx", HashEmbedder()).ingest([d])
    assert main(["--index", str(tmp_path / "idx"), "search", "chips"]) == EXIT_BAD_INDEX
    assert "embedder" in capsys.readouterr().err


def test_console_script_is_installed():
    exe = Path(sys.executable).parent / "partnerqa"
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0 and "ingest" in out.stdout and "serve" in out.stdout


def test_eval_and_bench_receive_their_own_options(capsys):
    from ui.cli import _parse

    args = _parse(["--index", "x", "eval", "--limit", "2", "--set", "s.jsonl"])
    assert args.command == "eval" and args.rest == ["--limit", "2", "--set", "s.jsonl"] and args.index == "x"
    assert _parse(["bench", "--quick"]).rest == ["--quick"]
    with pytest.raises(SystemExit) as e:
        main(["eval", "--help"])
    assert e.value.code == 0 and "--limit" in capsys.readouterr().out
