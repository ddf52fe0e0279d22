"""What the probe knows about packages: the predefined sets, import names, and smoke-test entry points.

A smoke test is a deterministic expression: it is evaluated once, then in several threads at once,
and every threaded result must equal the first. The expressions exercise each package's compiled
code (the part a free-threaded build can break), not only its Python wrappers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Smoke:
    imports: tuple[str, ...]  # modules to import; their top-level names are the expression's globals
    expr: str


# Distribution name (as pip spells it) -> the modules its users import, where that differs from the name.
IMPORT_NAMES: dict[str, tuple[str, ...]] = {
    "pyyaml": ("yaml",),
    "pydantic-core": ("pydantic_core",),
    "pillow": ("PIL",),
    "interpreters-pep-734": ("interpreters_backport", "interpreters_backport.interpreters"),
    "charset-normalizer": ("charset_normalizer",),
    "python-dateutil": ("dateutil",),
    "scikit-learn": ("sklearn",),
}

SMOKE: dict[str, Smoke] = {
    "numpy": Smoke(("numpy",), "int(numpy.arange(200_000).sum())"),
    "pandas": Smoke(("pandas",), "int(pandas.Series(range(20_000)).rolling(10).sum().fillna(0).sum())"),
    "pydantic-core": Smoke(("pydantic_core",), 'pydantic_core.from_json(b\'{"a": [1, 2, 3], "b": "x"}\')'),
    "orjson": Smoke(("orjson",), "orjson.loads(orjson.dumps({'a': list(range(1000)), 'b': 'x' * 100}))"),
    "msgpack": Smoke(("msgpack",), "msgpack.unpackb(msgpack.packb({'a': list(range(1000)), 'b': 'x'}))"),
    "ujson": Smoke(("ujson",), "ujson.loads(ujson.dumps({'a': list(range(1000))}))"),
    "simplejson": Smoke(("simplejson",), "simplejson.loads(simplejson.dumps({'a': list(range(1000))}))"),
    "lxml": Smoke(("lxml.etree",), "len(lxml.etree.fromstring(b'<r>' + b'<i>x</i>' * 1000 + b'</r>'))"),
    "cryptography": Smoke(
        ("cryptography.hazmat.primitives.hashes",),
        "(lambda h: (h.update(b'x' * 100_000), h.finalize())[1])("
        "cryptography.hazmat.primitives.hashes.Hash(cryptography.hazmat.primitives.hashes.SHA256()))",
    ),
    "psutil": Smoke(("psutil",), "psutil.Process().pid > 0 and psutil.cpu_count() > 0"),
    "pyyaml": Smoke(("yaml",), "yaml.safe_load(yaml.safe_dump({'a': list(range(300)), 'b': 'x'}))"),
    "regex": Smoke(("regex",), "len(regex.findall(r'\\w+', 'the quick brown fox ' * 500))"),
    "zstandard": Smoke(
        ("zstandard",),
        "zstandard.ZstdDecompressor().decompress(zstandard.ZstdCompressor().compress(b'abc' * 10_000))",
    ),
    "lz4": Smoke(("lz4.frame",), "lz4.frame.decompress(lz4.frame.compress(b'abc' * 10_000))"),
    "xxhash": Smoke(("xxhash",), "xxhash.xxh64(b'abc' * 10_000).hexdigest()"),
    "markupsafe": Smoke(("markupsafe",), "str(markupsafe.escape('<a href=\"x\">' * 1000))"),
    "pillow": Smoke(("PIL.Image",), "PIL.Image.new('RGB', (64, 64), 'red').resize((32, 32)).tobytes()"),
    "multidict": Smoke(("multidict",), "multidict.MultiDict([('a', i) for i in range(200)]).getall('a')"),
    "cffi": Smoke(("cffi",), "cffi.FFI().sizeof('long long')"),
    "greenlet": Smoke(("greenlet",), "greenlet.greenlet(lambda: 6 * 7).switch()"),
    "scipy": Smoke(("numpy", "scipy.linalg"), "round(float(scipy.linalg.det(numpy.eye(40) * 2)))"),
    "h11": Smoke(("h11",), "type(h11.Connection(h11.CLIENT).send(h11.ConnectionClosed())).__name__"),
}

# Packages with compiled code that concurrency users depend on, plus the lab's own dependencies
# (pyperf, psutil, h11, interpreters-pep-734, and the report's matplotlib and scipy).
SETS: dict[str, tuple[str, ...]] = {
    "popular": (
        "numpy",
        "pandas",
        "scipy",
        "pydantic-core",
        "orjson",
        "ujson",
        "msgpack",
        "lxml",
        "cryptography",
        "cffi",
        "psutil",
        "pyyaml",
        "regex",
        "zstandard",
        "lz4",
        "xxhash",
        "markupsafe",
        "pillow",
        "greenlet",
        "multidict",
        "matplotlib",
        "pyperf",
        "h11",
        "interpreters-pep-734",
    ),
}


def import_names(package: str) -> tuple[str, ...] | None:
    """The modules to import for *package*, or None when the installed files must say."""
    return IMPORT_NAMES.get(package.lower().replace("_", "-"))


def smoke_for(package: str) -> Smoke | None:
    return SMOKE.get(package.lower().replace("_", "-"))
