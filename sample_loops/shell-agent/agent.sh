#!/bin/sh
# The "agent" of the shell-agent sample: a plain POSIX shell script.
#
# loopconsole runs it once per iteration, in the run's copy of workspace/, as
#     ./agent.sh {iteration}
# with the iteration's prompt on stdin. Like a real agent it reads the goal and
# the validator failures from the prompt, reads the code, changes it, runs the
# check itself and says how it went. It only knows two tricks beyond the
# obvious first pass, and only uses them once the validator has shown them to
# be needed, so the loop takes two iterations.
set -eu

iteration="${1:-?}"
prompt=$(cat)
goal=$(printf '%s\n' "$prompt" | sed -n '/^# Goal/{n;p;q;}')
echo "agent.sh, iteration $iteration. Goal: $goal"

# What is already in slug.py stays (a fix from an earlier iteration), and
# what the validator complained about in the prompt gets added.
punctuation=no
accents=no
if grep -q 're.sub' slug.py; then punctuation=yes; fi
if grep -q 'unicodedata' slug.py; then accents=yes; fi
case "$prompt" in
*"FAIL punctuation"*)
    echo "The validator says punctuation survives: replacing every run of non-alphanumerics with a space."
    punctuation=yes ;;
esac
case "$prompt" in
*"FAIL accents"*)
    echo "The validator says accents survive: decomposing letters and dropping the marks."
    accents=yes ;;
esac
if [ "$punctuation" = no ] && [ "$accents" = no ]; then
    echo "First pass: lowercase the title and join its words with single hyphens."
fi

{
    printf '%s\n' '"""Turn titles into URL slugs (written by agent.sh)."""'
    if [ "$punctuation" = yes ] || [ "$accents" = yes ]; then echo; fi
    if [ "$punctuation" = yes ]; then printf '%s\n' 'import re'; fi
    if [ "$accents" = yes ]; then printf '%s\n' 'import unicodedata'; fi
    printf '%s\n' '' '' 'def slugify(title: str) -> str:' '    text = title'
    if [ "$accents" = yes ]; then
        printf '%s\n' '    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()'
    fi
    if [ "$punctuation" = yes ]; then
        printf '%s\n' '    text = re.sub(r"[^A-Za-z0-9]+", " ", text)'
    fi
    printf '%s\n' '    return "-".join(text.lower().split())'
} > slug.py
did="lowercase words joined by hyphens"
if [ "$punctuation" = yes ]; then did="$did, punctuation dropped"; fi
if [ "$accents" = yes ]; then did="$did, accents removed"; fi

echo "Running the check myself:"
if python3 check_slug.py; then
    verdict="Done: all tests pass now."
else
    verdict="Some cases still fail; I will read the validator's report next iteration."
fi
# A blank line, then the closing words: the text backend keeps the last
# paragraph as what the agent said, and the next prompt quotes it.
echo
echo "slug.py now has: $did. $verdict"
