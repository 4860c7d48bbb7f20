"""The first step of every generated job: what a restored cache left under ``.uvci`` is removed.

A cache is written by any pipeline of an unprotected ref, and its job chooses the cache
``paths:``: the archive may hold ``.uvci/requirements.txt``, ``.uvci/venv``, ``.uvci/uv-cache``,
``.uvci/junit.xml`` ... as symlinks to elsewhere or as planted content. Before a job writes
there, :func:`clean_uvci_dir` removes every entry of ``.uvci`` except the cache paths uvci
itself saves (the wheelhouse, and in the shared layout the writer's record) and a build job's
artifact (``.uvci/dist``); a kept entry must be what uvci writes there (a real directory, a
regular file), never a link. Inside the wheelhouse only regular files are kept: a link, a
directory, a FIFO or a device is removed before uv lists the directory for ``--find-links``
(uv would follow a link out of it; a loop or a FIFO would stop it), and the next fill fetches
the file again if the lock needs it. Links are removed, never followed (``rm`` removes the link
itself). Nothing outside ``.uvci`` is touched. Plain POSIX sh (dash, bash, busybox ash).

No name from the cache is printed (a name may hold a line break: log injection): one line
counts what was removed.
"""

from __future__ import annotations

from collections.abc import Sequence

from uvci.gitlab.generate.scripts import CLEANED_SUFFIX

UVCI_DIR = ".uvci"


def _glob(directory: str) -> str:
    """Every entry of ``directory``, dot files too (a pattern that matches nothing stays
    itself: the loop checks that the entry exists)."""
    return f"{directory}/* {directory}/.[!.]* {directory}/..?*"


def clean_uvci_dir(
    keep_dirs: Sequence[str], keep_files: Sequence[str] = (), wheelhouses: int = 1
) -> str:
    """The step: ``keep_dirs`` (paths under ``.uvci``, e.g. ``.uvci/wheels``) stay when they
    are real directories, ``keep_files`` when they are regular files; everything else under
    ``.uvci`` goes. The first ``wheelhouses`` of ``keep_dirs`` are wheelhouses: only their
    regular files stay, and ``W.cleaned`` says that W lost entries (so the repaired W is
    saved, not the archive that brought them)."""
    kept = [f'    {d}) [ -d "$uvci_f" ] && [ ! -L "$uvci_f" ] && continue ;;' for d in keep_dirs]
    kept += [f'    {f}) [ -f "$uvci_f" ] && [ ! -L "$uvci_f" ] && continue ;;' for f in keep_files]
    return "\n".join(
        [
            "uvci_n=0",
            f"if [ -L {UVCI_DIR} ] || {{ [ -e {UVCI_DIR} ] && [ ! -d {UVCI_DIR} ]; }}; then",
            f"  rm -f {UVCI_DIR} && uvci_n=1",
            "fi",
            f"mkdir -p {UVCI_DIR}",
            f"for uvci_f in {_glob(UVCI_DIR)}; do",
            '  case "$uvci_f" in',
            *kept,
            "  esac",
            '  if [ -e "$uvci_f" ] || [ -L "$uvci_f" ]; then',
            '    rm -rf "$uvci_f" && uvci_n=$((uvci_n + 1))',
            "  fi",
            "done",
            *(line for w in keep_dirs[:wheelhouses] for line in _regular_only(w)),
            'if [ "$uvci_n" -gt 0 ]; then',
            f'  echo "uvci: removed $uvci_n entries of the restored cache under {UVCI_DIR} that'
            f" uvci does not keep there (links, other files; only regular files stay in"
            f' {" and ".join(keep_dirs[:wheelhouses])})"',
            "fi",
        ]
    )


def _regular_only(wheelhouse: str) -> list[str]:
    return [
        f"for uvci_f in {_glob(wheelhouse)}; do",
        '  if [ -L "$uvci_f" ] || { [ -e "$uvci_f" ] && [ ! -f "$uvci_f" ]; }; then',
        f'    rm -rf "$uvci_f" && uvci_n=$((uvci_n + 1)) && : > {wheelhouse}{CLEANED_SUFFIX}',
        "  fi",
        "done",
    ]
