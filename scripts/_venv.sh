# Sourced by scripts/*: the steps they share, as functions, in the order they call them:
#   require_python        check the interpreter before anything else (sets $python, $python_version)
#   ensure_venv EXTRA     make .venv with it if missing, install the project with the EXTRA extras
# PYTHON names the interpreter that makes .venv (default: .venv's own if there is one, else
# python3 on PATH). Each failure is one line on stderr that says what was found and what to do.

MIN_PYTHON=3.11
script="scripts/${0##*/}"

# die MESSAGE...: print "scripts/NAME: MESSAGE" on stderr and exit 1.
die() {
  echo "$script: $*" >&2
  exit 1
}

# python_version PY: print "X.Y.Z PATH" for interpreter PY (any Python, even 2.7); fail if it
# does not run. Its error, if any, goes to stderr.
python_version() {
  "$1" -c 'import sys; sys.stdout.write("%d.%d.%d %s" % (sys.version_info[:3] + (sys.executable,)))'
}

# at_least VERSION MINIMUM: true when VERSION (X.Y or X.Y.Z) is MINIMUM (X.Y) or newer.
at_least() {
  local major minor want_major want_minor
  IFS=. read -r major minor _ <<< "$1"
  IFS=. read -r want_major want_minor <<< "$2"
  ((major > want_major || (major == want_major && minor >= want_minor)))
}

# require_python: pick the interpreter (PYTHON, else .venv's, else python3) and check that it
# runs and is at least MIN_PYTHON; exit with one line saying what to do otherwise.
require_python() {
  local origin found error where missing="there is no python3 on PATH"
  local needs="bridge needs Python $MIN_PYTHON or newer"
  local advice="install one, or name one: PYTHON=/path/to/python$MIN_PYTHON $script"
  if [ -n "${PYTHON:-}" ]; then
    python=$PYTHON origin="PYTHON=$PYTHON" missing="PYTHON=$PYTHON is not a command"
  elif [ -e .venv/bin/python ]; then
    python=.venv/bin/python origin=".venv/bin/python"
    advice="remove .venv (rm -rf .venv) and run again, with PYTHON=/path/to/python$MIN_PYTHON"
    advice+=" if python3 is older too"
  else
    python=python3 origin="python3 on PATH"
  fi
  command -v "$python" > /dev/null || die "$needs, and $missing; $advice"
  if ! found=$(python_version "$python" 2> /dev/null); then
    error=$("$python" -c '' 2>&1 | head -n 1) || true
    die "$needs, and $origin does not run (${error:-it says nothing}); $advice"
  fi
  python_version=${found%% *} where=${found#* }
  [ "$where" != "$python" ] && [ "$where" != "$PWD/$python" ] || where=""
  at_least "$python_version" "$MIN_PYTHON" ||
    die "$needs, and $origin is $python_version${where:+ ($where)}; $advice"
}

# ensure_venv EXTRA: make .venv with $python (remade if PYTHON asks for another X.Y than it
# has), install the project and its EXTRA extras, and put .venv/bin first on PATH.
ensure_venv() {
  make_venv .venv "$python" "$python_version"
  install_extra .venv "$1"
  export PATH="$PWD/.venv/bin:$PATH"
}

# make_venv DIR PY VERSION: make virtualenv DIR with interpreter PY (Python VERSION) unless DIR
# already holds that X.Y.
make_venv() {
  local venv=$1 py=$2 version=$3 had
  if [ -e "$venv/bin/python" ]; then
    if had=$(python_version "$venv/bin/python" 2> /dev/null); then
      had=${had%% *}
      [ "${had%.*}" != "${version%.*}" ] || return 0
      echo "$script: $venv holds Python $had, not ${version%.*}: making it anew ..."
    else
      echo "$script: the Python in $venv does not run: making it anew ..."
    fi
  else
    echo "$script: making $venv with Python $version ..."
  fi
  if ! "$py" -m venv --clear "$venv"; then
    rm -rf "$venv"
    die "Python $version could not make $venv (see above); on Debian or Ubuntu," \
      "apt-get install python${version%.*}-venv first"
  fi
}

# install_extra DIR EXTRA: pip install -e ".[EXTRA]" into virtualenv DIR, unless that was done
# since pyproject.toml last changed (the copy of it in DIR/.installed-EXTRA says so). pip shows
# its progress: the first install downloads for a minute or two.
install_extra() {
  local venv=$1 extra=$2
  if is_installed "$venv" "$extra" || { [ "$extra" = demo ] && is_installed "$venv" dev; }; then
    return 0  # (the dev extras include the demo's: see pyproject.toml)
  fi
  echo "$script: installing bridge and its '$extra' extras into $venv (pip's log follows) ..."
  if ! "$venv/bin/python" -m pip install --disable-pip-version-check -e ".[$extra]" 2>&1 |
    { grep -v "^WARNING: Location '" || true; }; then
    die "pip could not install the '$extra' extras into $venv (see above); once the cause" \
      "is fixed, run again (rm -rf $venv starts afresh)"
  fi
  cp pyproject.toml "$venv/.installed-$extra"
}

# is_installed DIR EXTRA: true when EXTRA was installed into DIR from today's pyproject.toml.
is_installed() {
  cmp -s pyproject.toml "$1/.installed-$2"
}
