"""Fixtures for registry tests: small real snapshot files and a local HTTP server (no internet)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pooch
import pytest

from idtrack_sc.builders import SourceData, build_snapshot
from idtrack_sc.registry import _registry


def _gene_table(release: int) -> SourceData:
    genes = pd.DataFrame(
        {
            "gene_id": ["ENSG00000141510", "ENSG00000012048"],
            "version": [17 if release < 114 else 18, 23],
            "release": [release, release],
            "biotype": ["protein_coding", "protein_coding"],
        }
    )
    names = pd.DataFrame(
        {
            "gene_id": ["ENSG00000141510", "ENSG00000012048"],
            "namespace": ["symbol", "symbol"],
            "value": ["TP53", "BRCA1"],
            "kind": ["primary", "primary"],
            "release": [release, release],
        }
    )
    return SourceData(
        name=f"gene_table:{release}",
        kind="gene_table",
        origin=f"genes_{release}.tsv",
        release=release,
        genes=genes,
        names=names,
    )


@pytest.fixture(scope="session")
def published(tmp_path_factory) -> dict[str, Path]:
    """Snapshot files as a release would publish them: human 110 and 114, mouse 114."""
    folder = tmp_path_factory.mktemp("published")
    out = {}
    for organism, releases in (
        ("homo_sapiens", (104, 110)),
        ("homo_sapiens", (104, 110, 114)),
        ("mus_musculus", (114,)),
    ):
        path = folder / f"{organism}-{releases[-1]}.idtrack.zip"
        build_snapshot([_gene_table(r) for r in releases], organism=organism, out=path, assembly="test")
        out[path.name] = path
    return out


#: What an ``endless`` route streams at most: 256 MiB of garbage.
ENDLESS_BYTES = 256 << 20


class _Handler(BaseHTTPRequestHandler):
    """Serves ``server.routes[path] = (mode, body)``; mode ``ok``, ``wrong``, ``drop``, ``endless``, ``trickle``, ``stall``."""

    def do_GET(self):
        self.server.hits.append(self.path)
        mode, body = self.server.routes.get(self.path, (None, b""))
        if mode is None:
            self.send_error(404)
            return
        if mode == "wrong":
            body = b"not the snapshot you are looking for " * 10
        if mode in ("trickle", "stall"):  # a byte every 0.2 s for 8 s; or headers, then 5 s of silence
            self.send_response(200)
            self.end_headers()
            self.wfile.flush()
            try:
                for _ in range(40 if mode == "trickle" else 1):
                    threading.Event().wait(0.2 if mode == "trickle" else 5)  # time.sleep is patched out
                    self.wfile.write(b"x")
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
            return
        if mode == "endless":  # garbage, far more than any snapshot, no Content-Length
            self.send_response(200)
            self.send_header("Content-Type", "application/zip")
            self.end_headers()
            chunk = b"\x00garbage" * 8192
            sent = 0
            try:
                while sent < ENDLESS_BYTES:
                    self.wfile.write(chunk)
                    sent += len(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.server.sent.append(sent)
            self.close_connection = True
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "drop":  # promise the whole body, send half, hang up
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class LocalServer:
    """A threaded HTTP server on 127.0.0.1 with programmable routes."""

    def __init__(self):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.routes = {}
        self.httpd.hits = []
        self.httpd.sent = []
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.running = True

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def hits(self) -> list[str]:
        return self.httpd.hits

    @property
    def sent(self) -> list[int]:
        """Bytes sent by each finished ``endless`` response."""
        return self.httpd.sent

    def serve(self, route: str, path_or_bytes: Path | bytes, mode: str = "ok") -> str:
        body = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
        self.httpd.routes[route] = (mode, body)
        return self.url + route

    def stop(self):
        if self.running:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join(timeout=5)
            self.running = False


@pytest.fixture
def server():
    srv = LocalServer()
    yield srv
    srv.stop()


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Cache in tmp_path, no user mirror/registry, no embedded data, no retry sleeps."""
    monkeypatch.setenv("IDTRACK_SC_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("IDTRACK_SC_MIRROR", raising=False)
    monkeypatch.delenv("IDTRACK_SC_REGISTRY", raising=False)
    monkeypatch.setattr(_registry, "PACKAGE_DATA", tmp_path / "no-embedded-data")
    monkeypatch.setattr(pooch.core.time, "sleep", lambda seconds: None)
    return tmp_path / "cache"


@pytest.fixture
def write_registry(tmp_path):
    """Write a registry file from ``(file, sha256, url[, size])`` tuples; url may be None."""
    counter = iter(range(1000))

    def write(entries, name=None) -> Path:
        path = tmp_path / (name or f"registry-{next(counter)}.txt")
        lines = ["# test registry", ""]
        for file, sha, url, *size in entries:
            lines.append(f"{file} sha256:{sha}" + (f" {url}" if url else "") + (f" size={size[0]}" if size else ""))
        path.write_text("\n".join(lines) + "\n")
        return path

    return write
