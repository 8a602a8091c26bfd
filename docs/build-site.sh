#!/usr/bin/env bash
# Builds the tutorial's static site into target/site/ from a fresh checkout, with Jupyter Book 1
# (docs/book/_config.yml), offline:
#   the kernel set-up (skipped where done) and the docs' own Python environment (target/docs-env),
#   the notebooks executed through the kernel (reusing tests/test_notebooks.py's run when its
#   copies are newer than the notebooks), this machine's ceilings and every stage timed (`heat
#   roofline`, `heat bench`, whose --html tables the pages include), the slide decks
#   (docs/book/slides.py), the book laid out (docs/book/prepare.py) and built, rustdoc beside it.
#
#   bash docs/build-site.sh              build (reusing an up-to-date notebook run)
#   bash docs/build-site.sh --execute    run the notebooks again even if a run is up to date
#
# Then open target/site/index.html, or serve it: .venv/bin/python -m http.server -d target/site
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
MATHJAX_VERSION=3.2.2
MATHJAX_SHA256=1b9c0a1c44df864e915690558e72adb9cc5203360daefd385084ced3b6c64c09
REVEAL_VERSION=5.2.1
REVEAL_SHA256=359b575dd51bbda32f89b2fd4c7dc46ad7389a805572158916c29252f7a27333
execute=false
case "${1:-}" in
    "") ;;
    --execute) execute=true ;;
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
    *) echo "build-site.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
esac
say() { printf '\n==> %s\n' "$*"; }
fail() { echo "build-site.sh: $*" >&2; exit 1; }

say "the kernel set-up (skips what is done)"
bash kernel-setup/setup.sh --setup-only

say "the docs' Python environment, target/docs-env (Jupyter Book 1, nbconvert; skipped where done)"
docs_env=target/docs-env
lock_digest="$(sha256sum docs/requirements.lock | cut -d' ' -f1)"
if [ "$(cat "$docs_env/installed-lock" 2>/dev/null)" != "$lock_digest" ]; then
    rm -rf "$docs_env"
    python3 -m venv "$docs_env"
    "$docs_env/bin/python" -m pip install -q --disable-pip-version-check --require-hashes -r docs/requirements.lock
    echo "$lock_digest" > "$docs_env/installed-lock"
fi

say "the executed notebooks"
stale=false
for notebook in notebooks/*.ipynb; do
    executed="target/notebooks/$(basename "$notebook")"
    [ "$executed" -nt "$notebook" ] || stale=true
done
if $execute || $stale; then
    .venv/bin/python -m pytest tests/test_notebooks.py
else
    echo "reusing target/notebooks/ (newer than every notebook; --execute runs them again)"
fi

# The npm registry's tarball of a pinned package, checked against its known digest; the parts
# of it the site serves are unpacked into FOLDER/package.
download_npm_package() {  # NAME VERSION SHA256 FOLDER PART...
    local tgz="$4/$1-$2.tgz"
    mkdir -p "$4"
    .venv/bin/python -c 'import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])' \
        "https://registry.npmjs.org/$1/-/$1-$2.tgz" "$tgz" \
        || fail "could not download $1 $2 from registry.npmjs.org"
    echo "$3  $tgz" | sha256sum --check --quiet || fail "$1-$2.tgz is not the expected file"
    tar -xzf "$tgz" -C "$4" "${@:5}"
}

say "MathJax $MATHJAX_VERSION (served by the site, so equations render offline)"
mathjax_dir=target/site-build/mathjax-$MATHJAX_VERSION
[ -f "$mathjax_dir/package/es5/tex-svg.js" ] || download_npm_package mathjax "$MATHJAX_VERSION" "$MATHJAX_SHA256" "$mathjax_dir" \
    package/es5/tex-svg.js

say "reveal.js $REVEAL_VERSION (the slides' engine, served by the site)"
reveal_dir=target/site-build/reveal.js-$REVEAL_VERSION
[ -f "$reveal_dir/package/dist/reveal.js" ] || download_npm_package reveal.js "$REVEAL_VERSION" "$REVEAL_SHA256" "$reveal_dir" \
    package/dist package/plugin/notes

# What the pages include (<!-- generated: NAME -->), as heat and the scripts wrote it.
generated=target/site-build/generated
rm -rf "$generated"
mkdir -p "$generated"

say "this machine's ceilings, and a size sweep against them, with heat roofline (about a minute)"
mkdir -p target/site-build/roofline
cargo run --release -q -p heat-cli -- roofline --measure --sweep --json target/site-build/roofline/roofline.json \
    --html "$generated/roofline-table.html" --sweep-json target/site-build/roofline/sweep.json --charts "$generated"
cat > "$generated/roofline-charts.md" <<'CHARTS'
![Speed of typed, vectorized and parallel against plate size, with their ceilings](generated/sweep.png)

![Each stage on the roofline of this site's build machine](generated/roofline.png)
CHARTS

say "timing every stage with heat bench, and the Python versions beside them (about two minutes)"
mkdir -p target/site-build
# The small problem's speed-ups are over the interpreter (the Python loop); the interpreter
# would take minutes on the large one, so there they are over vectorized (NumPy's idea).
cargo run --release -q -p heat-cli -- bench --size small --repeat 5 --with-python --json target/site-build/bench-small.json \
    --html "$generated/bench-small.html"
cargo run --release -q -p heat-cli -- bench --size large --repeat 5 --baseline vectorized \
    --with-python --json target/site-build/bench-large.json --html "$generated/bench-large.html"

say "heatlib's API reference (rustdoc)"
RUSTDOCFLAGS="-D warnings" cargo doc -q -p heatlib --features opencl --no-deps

say "the slide decks (nbconvert, reveal.js)"
rm -rf target/site-build/slides
"$docs_env/bin/python" docs/book/slides.py --notebooks target/notebooks --reveal "$reveal_dir/package" \
    --out target/site-build/slides --list "$generated/slide-decks.html"

say "the book (Jupyter Book: the pages of docs/ and the executed notebooks)"
"$docs_env/bin/python" docs/book/prepare.py --notebooks target/notebooks --generated "$generated" --out target/book
rm -rf target/book-build
# Warnings are errors: a broken link or a missing picture stops the build.
"$docs_env/bin/jupyter-book" build target/book --path-output target/book-build --warningiserror --keep-going --quiet

rm -rf target/site
cp -r target/book-build/_build/html target/site
mkdir -p target/site/_static/mathjax
cp "$mathjax_dir/package/es5/tex-svg.js" target/site/_static/mathjax/tex-svg.js
cp -r target/site-build/slides target/site/slides
cp -r target/doc target/site/api
echo "site built: target/site/index.html (API reference: target/site/api/heatlib/index.html)"
