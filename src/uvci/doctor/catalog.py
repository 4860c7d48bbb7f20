"""Every doctor rule: stable id, title, severity, explanation, cost and fix (docs/rules.md).

The one place a rule's severity is set (findings take it from here).
"""

from __future__ import annotations

from uvci.doctor import rules_cache as c
from uvci.doctor import rules_install as i
from uvci.doctor import rules_python as py
from uvci.doctor import rules_refresh as r
from uvci.doctor.catalog_patterns import PATTERN_RULES
from uvci.doctor.model import Rule, Severity
from uvci.errors import FatalError

RULES: tuple[Rule, ...] = (
    Rule(
        "UVC001",
        "no cache on a job that runs uv",
        Severity.MAJOR,
        "The job resolves, downloads or installs packages with uv but declares no `cache:` "
        "(neither its own nor one from `default:`). uv's cache lives in the container and is "
        "thrown away with it, so every run starts cold. (Jobs that install only with "
        "`--offline`/`--no-index`, e.g. from a wheelhouse artifact, download nothing.)",
        "Every run downloads every wheel again: for a matrix of N Python versions, N full "
        "downloads per pipeline, usually the larger part of the job's time.",
        "Set `UV_CACHE_DIR: $CI_PROJECT_DIR/.uv-cache`, cache that path keyed on `uv.lock`, "
        "or adopt `uvci generate`, which writes the whole cache layout.",
        c.uvc001,
    ),
    Rule(
        "UVC002",
        "the cached path does not hold uv's cache",
        Severity.MAJOR,
        "GitLab archives only paths inside `$CI_PROJECT_DIR`. uv writes its cache to "
        "`UV_CACHE_DIR` (default `~/.cache/uv`, outside the project). A cache of another path, "
        "of a path outside the project, or of pip's or poetry's cache directory, saves nothing "
        "uv reads.",
        "The cache is uploaded and downloaded on every run (time and storage) and uv still "
        "downloads everything: the cost of caching without its benefit.",
        "Set `UV_CACHE_DIR` to a directory inside the project (e.g. `$CI_PROJECT_DIR/.uv-cache`) "
        "and list that same path under `cache: paths:`. `--fix` sets UV_CACHE_DIR when the "
        "cached path is clearly meant for uv.",
        c.uvc002,
    ),
    Rule(
        "UVC003",
        "the cache key ignores the lock file",
        Severity.MAJOR,
        "A cache key should change exactly when what is installed changes. A static key, the "
        "default key, a branch key, or `pyproject.toml` (ranges, not versions) keep the key "
        "when the resolution changes; a key file that does not exist makes the key constant. "
        "(Jobs that only run tools with uvx may key on the pinned tool version instead.)",
        "Stale caches that grow with every dependency bump (each upload carries old and new "
        "wheels), or, with a branch key, a cold cache on every new branch.",
        "Key on the lock: `key: {files: [uv.lock]}` (add `prefix:` for per-job or per-Python "
        "caches). `--fix` rewrites the key when uv.lock exists, keeping an existing prefix.",
        c.uvc003,
    ),
    Rule(
        "UVC004",
        "a Python matrix shares one cache key",
        Severity.MAJOR,
        "Jobs testing different Python versions push the same cache key. Each job restores "
        "the same archive, adds its own version's wheels and uploads; the last upload wins.",
        "Every version but the last writer misses most of its wheels on the next run and "
        "downloads them again; parallel uploads race.",
        "Add the Python version to the key, e.g. `prefix: $PYTHON_VERSION` (what `--fix` does "
        "when one variable carries the version), or fetch once for all versions (`uvci generate`).",
        c.uvc004,
    ),
    Rule(
        "UVC005",
        "an unchanged cache is re-uploaded",
        Severity.MINOR,
        "With `policy: pull-push` (GitLab's default) every job archives and uploads the cache "
        "after its script. When the key is derived from uv.lock and the job installs from the "
        "lock, a job that restored the cache cannot change it: every warm matrix cell "
        "re-uploads the same bytes.",
        "One archive-and-upload per job per pipeline, often tens of seconds for a large uv "
        "cache, for no change.",
        "Fill the cache in one job with `pull-push` and give the others `policy: pull`; "
        "`uvci generate` lays the pipeline out this way.",
        r.uvc005,
    ),
    Rule(
        "UVC006",
        "the cache is never refreshed",
        Severity.MAJOR,
        "The job deletes the cached directory (typically `rm -rf $UV_CACHE_DIR` when the "
        "cache was restored) so GitLab skips the upload, while the key does not change with "
        "the resolved dependencies. Once a cache exists under that key it is never updated.",
        "After the first run, every new or upgraded dependency is downloaded in every job, "
        "for as long as the key stays the same.",
        "Key the cache on uv.lock, so a new resolution gets a new key, and use `policy: pull` "
        "instead of deleting the directory.",
        r.uvc006,
    ),
    Rule(
        "UVC007",
        "installs are not locked",
        Severity.MAJOR,
        "`uv sync`/`uv run` without `--locked` or `--frozen` re-resolve when uv.lock is out of "
        "date and rewrite it instead of failing. `uv pip install` of unpinned requirements "
        "(a wheel, `.`, package names) in several jobs resolves separately in each job.",
        "Jobs can test versions nobody locked, and differ from each other; each resolution "
        "also costs index requests in every job.",
        "Use `uv sync --locked` / `uv run --locked` (`--fix` adds the flag), or set "
        "`UV_LOCKED: 1`. For `uv pip`, lock once and install the lock (`uv pip sync`).",
        i.uvc007,
    ),
    Rule(
        "UVC008",
        "`uv cache prune --ci` empties a wheel cache",
        Severity.MINOR,
        "`uv cache prune --ci` removes pre-built wheels downloaded from the index and keeps "
        "wheels uv built from source. When every locked package ships wheels, it leaves "
        "almost nothing worth caching. It is right when builds from source dominate or the "
        "index is faster than the cache.",
        "Every run downloads all wheels again, plus the time to archive a nearly empty cache.",
        "Drop `uv cache prune --ci` (what `--fix` does when it is a script line of its own), or "
        "keep it and drop the cache if the index is fast.",
        i.uvc008,
    ),
    Rule(
        "UVC009",
        "uv is installed in every job",
        Severity.MINOR,
        "`pip install uv` or the curl installer in a script runs in every job; an unpinned "
        "install or a `:latest` uv image gives each run whatever uv is newest.",
        "A few seconds and a network dependency per job, and uv behaviour that changes "
        "between runs without a commit.",
        "Use a pinned uv image (`ghcr.io/astral-sh/uv:<version>-python3.X-trixie-slim`).",
        i.uvc009,
    ),
    Rule(
        "UVC010",
        "interpreters are downloaded in every job",
        Severity.MINOR,
        "When the requested Python (`--python`, `UV_PYTHON`, `uv python install`) is not the "
        "image's Python, uv downloads a managed interpreter in every job unless "
        "`UV_PYTHON_INSTALL_DIR` is cached. An image Python outside requires-python has the "
        "same effect. The reverse is worse: a matrix cell whose variable says 3.11, on an image "
        "with 3.12, where nothing asks uv for 3.11, silently tests 3.12.",
        "A 20-40 MB download and unpack per job.",
        "Use an image with the matrix's Python (`ghcr.io/astral-sh/uv:<v>-python3.X-...`), "
        "or cache `UV_PYTHON_INSTALL_DIR` inside the project.",
        py.uvc010,
    ),
    Rule(
        "UVC011",
        "the matrix is out of step with requires-python",
        Severity.MINOR,
        "The Python versions the jobs test should be the versions the project supports: its "
        "classifiers (or, without them, the lowest version requires-python allows) and none "
        "that requires-python excludes. Versions past their end of life need no job.",
        "An untested supported version ships bugs; an excluded one fails or wastes a job.",
        "Align the matrix with pyproject.toml; `uvci generate` derives it from there.",
        py.uvc011,
    ),
    Rule(
        "UVC012",
        "`.venv` is cached next to uv's cache",
        Severity.MAJOR,
        "The virtual environment holds copies (or links) of what uv's cache already holds, and "
        "its interpreter links point into the image it was built in.",
        "The archive is about twice the size; a restored venv breaks when the image changes.",
        "Cache uv's cache only; uv recreates `.venv` from it in seconds. `--fix` removes the "
        "venv path.",
        r.uvc012,
    ),
    Rule(
        "UVC013",
        "a large cache is archived with the default zip",
        Severity.MINOR,
        "GitLab Runner archives caches with a slow zip implementation unless `FF_USE_FASTZIP` "
        "is on or `CACHE_COMPRESSION_FORMAT` chooses another format. uv caches of "
        "PyTorch-sized dependencies run to gigabytes.",
        "Minutes of compressing and extracting per job for large caches.",
        'Set `FF_USE_FASTZIP: "true"` and `CACHE_COMPRESSION_LEVEL: fastest` (what `--fix` '
        "adds to the global variables).",
        r.uvc013,
    ),
    Rule(
        "UVC014",
        "UV_LINK_MODE is not set across filesystems",
        Severity.MINOR,
        "uv hardlinks files from its cache into the environment. On GitLab the build "
        "directory is a separate mount: when the cache is on it and the environment in the "
        "image (or the other way round), hardlinks fail.",
        "A warning on every install, and a failed link attempt before each copy.",
        "Set `UV_LINK_MODE: copy` (what `--fix` adds), as uv's GitLab guide does.",
        py.uvc014,
    ),
    Rule(
        "UVC015",
        "the job caches uv's cache but tells uv not to use it",
        Severity.MAJOR,
        "`--no-cache` (or `UV_NO_CACHE`) makes uv work in a temporary cache and ignore "
        "`UV_CACHE_DIR`. Common in Dockerfiles, where it keeps layers small; in a CI job that "
        "restores and saves uv's cache it defeats the cache.",
        "Every run downloads everything, plus the time to restore and save a cache nobody reads.",
        "Drop `--no-cache` / `UV_NO_CACHE` from the job.",
        r.uvc015,
    ),
    *PATTERN_RULES,
)

BY_ID = {rule.id: rule for rule in RULES}


def rule(rule_id: str) -> Rule:
    """The rule with ``rule_id`` (case-insensitive); FatalError naming the valid ids."""
    found = BY_ID.get(rule_id.upper())
    if found is None:
        raise FatalError(f"unknown rule {rule_id!r}; rules are {RULES[0].id}..{RULES[-1].id}")
    return found
