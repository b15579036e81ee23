#!/usr/bin/env bash
# `dmarc-sink import` against parsedmarc, the tool people use today, on the
# same report files, in the same run, on the same machine.
#
# Run: benches/compare_parsedmarc.sh            (1,000, 100,000 and 1,000,000 records)
#      benches/compare_parsedmarc.sh 1000 100000 (chosen sizes)
#
# It builds dmarc-sink in release, writes the reports with the generator of
# benches/ingest.rs (`cargo bench --bench ingest -- write-reports`), installs
# parsedmarc from PyPI into a venv under target/ (never into the repository),
# and for each size times, in fresh processes:
#
# - parsedmarc: `parsedmarc.parse_report_file(path, offline=True)`, the call
#   its CLI makes for a file given with `--offline`. Offline means no reverse
#   DNS and no downloads; the bundled IP database is still consulted. A
#   Python audit hook records any socket use and the run fails if there is
#   one; where `unshare --net` works the process also has no network at all.
#   Reported: the parse call alone (the clock starts after the interpreter
#   and parsedmarc are loaded) and the whole process.
# - dmarc-sink: `dmarc-sink --db FRESH import FILE`, the whole process: it
#   opens a new store, copies the raw file into it, parses, inserts every
#   record and commits durably.
#
# Peak resident memory is GNU time's "maximum resident set size" of each
# process, the largest over the runs. Times are medians over several runs
# (fewer for the big sizes), the two tools' runs interleaved so that they
# share whatever else the machine is doing. Both tools must agree on the
# parse: records, messages (the sum of the counts), DKIM and SPF results.
#
# parsedmarc is stopped once it passes CAP_SECONDS or CAP_MIB of resident
# memory and is then reported as not finished within that cap. It refuses a
# compressed report that inflates past its own limit (100 MiB of XML in
# 11.1.0); it is then given the same report decompressed, as a .xml file,
# and the row says so (dmarc-sink still imports the .gz).
#
# Fails if the tools disagree, if parsedmarc parse ÷ dmarc-sink import is
# below 40 at 100,000 records, or if dmarc-sink's peak RSS at 1,000,000
# records is 100 MiB or more.
#
# Needs: python3 with venv, GNU time (/usr/bin/time), gzip.

set -euo pipefail

PARSEDMARC_VERSION=${PARSEDMARC_VERSION:-11.1.0}
CAP_SECONDS=${CAP_SECONDS:-1800}
CAP_MIB=${CAP_MIB:-8192}
MIN_RATIO_AT_100000=40
MAX_PEAK_MIB_AT_1000000=100

cd "$(dirname "$0")/.."
work=target/compare-parsedmarc
venv=target/parsedmarc-venv
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 100000 1000000)

# Times one parse of the file named by argv[1] in this process; prints
# "parse_seconds records messages dkim_results spf_results network_uses".
read -r -d '' parsedmarc_runner <<'PY' || true
import os, sys, threading, time

network_uses = []

def audit(event, args):
    if event.startswith("socket."):
        network_uses.append(event)

sys.addaudithook(audit)

cap_kib = int(sys.argv[2]) * 1024

def watch_memory():
    while True:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:") and int(line.split()[1]) > cap_kib:
                    sys.stderr.write(f"resident memory passed the cap of {sys.argv[2]} MiB\n")
                    os._exit(3)
        time.sleep(0.2)

threading.Thread(target=watch_memory, daemon=True).start()

import parsedmarc

started = time.perf_counter()
try:
    parsed = parsedmarc.parse_report_file(sys.argv[1], offline=True)
except parsedmarc.ParserError as refusal:
    sys.stderr.write(f"{refusal}\n")
    sys.exit(4)
elapsed = time.perf_counter() - started

assert parsed["report_type"] == "aggregate", parsed["report_type"]
records = parsed["report"]["records"]
print(
    f"{elapsed:.6f}",
    len(records),
    sum(r["count"] for r in records),
    sum(len(r["auth_results"]["dkim"]) for r in records),
    sum(len(r["auth_results"]["spf"]) for r in records),
    len(network_uses),
)
PY

# The same figures from a dmarc-sink store, read with Python's sqlite3.
read -r -d '' store_counts <<'PY' || true
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
one = lambda sql: db.execute(sql).fetchone()[0]
print(
    one("SELECT count(*) FROM records"),
    one("SELECT coalesce(sum(count), 0) FROM records"),
    one("SELECT count(*) FROM dkim_results"),
    one("SELECT count(*) FROM spf_results"),
)
PY

echo "== build" >&2
cargo build --release --quiet --bin dmarc-sink
mkdir -p "$work"
cargo bench --quiet --bench ingest -- write-reports "$work" "${sizes[@]}"

if [ "$("$venv/bin/python" -c 'import parsedmarc; print(parsedmarc.__version__)' 2>/dev/null)" != "$PARSEDMARC_VERSION" ]; then
    echo "== parsedmarc $PARSEDMARC_VERSION from PyPI into $venv" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "parsedmarc==$PARSEDMARC_VERSION"
fi
python="$venv/bin/python"

no_network=()
if unshare --net true 2>/dev/null; then
    no_network=(unshare --net)
fi

# measure NAME COMMAND...: runs COMMAND with stdout to $work/NAME.out and sets
# wall (s), cpu (user + system s), peak_kib and status.
measure() {
    local name=$1
    shift
    local started=$EPOCHREALTIME
    status=0
    /usr/bin/time -f '%U %S %M' -o "$work/$name.time" "$@" >"$work/$name.out" 2>"$work/$name.err" || status=$?
    local ended=$EPOCHREALTIME
    wall=$(awk -v a="$started" -v b="$ended" 'BEGIN { printf "%.6f", b - a }')
    read -r user system peak_kib < <(tail -n 1 "$work/$name.time")
    cpu=$(awk -v u="$user" -v s="$system" 'BEGIN { printf "%.2f", u + s }')
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
maximum() { printf '%s\n' "$@" | sort -g | tail -n 1; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
secs() { awk -v s="$1" 'BEGIN { printf(s < 10 ? "%.3f s" : "%.1f s", s) }'; }

remove_store() { rm -f "$1" "$1-wal" "$1-shm"; }

print_table() {
    echo "| records | XML | gzip | parsedmarc parse | parsedmarc process | parsedmarc CPU | parsedmarc peak RSS | dmarc-sink import | dmarc-sink CPU | dmarc-sink peak RSS | parse ÷ import | same parse |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    [ ${#rows[@]} -eq 0 ] || printf '%s\n' "${rows[@]}"
}

echo "== $(nproc) cores; load average at start: $(cut -d ' ' -f 1-3 /proc/loadavg)" >&2
echo "== parsedmarc $PARSEDMARC_VERSION on $("$python" --version); ${no_network[*]:-no network namespace}" >&2

rows=()
failures=()
for records in "${sizes[@]}"; do
    file="$work/report-$records.xml.gz"
    xml_bytes=$(gzip -l "$file" | awk 'NR == 2 { print $2 }')
    gz_bytes=$(stat -c %s "$file")
    if [ "$records" -le 10000 ]; then
        sink_runs=9 pm_runs=5
    elif [ "$records" -le 100000 ]; then
        sink_runs=5 pm_runs=3
    else
        sink_runs=3 pm_runs=1
    fi
    cat "$file" >/dev/null # in the page cache for both tools

    pm_parse=() pm_wall=() pm_cpu=() pm_peak=() pm_unfinished="" pm_counts="" pm_input=$file pm_note=""
    sink_wall=() sink_cpu=() sink_peak=() sink_counts=""
    for ((run = 1; run <= (sink_runs > pm_runs ? sink_runs : pm_runs); run++)); do
        if [ "$run" -le "$pm_runs" ] && [ -z "$pm_unfinished" ]; then
            echo "== $records records: parsedmarc run $run of $pm_runs" >&2
            measure parsedmarc timeout "$CAP_SECONDS" "${no_network[@]}" \
                "$python" -c "$parsedmarc_runner" "$pm_input" "$CAP_MIB"
            if [ "$status" = 4 ] && [ "$pm_input" = "$file" ]; then
                echo "== parsedmarc refused the .gz: $(tail -n 1 "$work/parsedmarc.err"); giving it the .xml" >&2
                pm_note=" (from the .xml: parsedmarc refuses the .gz, $(tail -n 1 "$work/parsedmarc.err"))"
                pm_input="$work/report-$records.xml"
                gzip -dc "$file" >"$pm_input"
                cat "$pm_input" >/dev/null
                measure parsedmarc timeout "$CAP_SECONDS" "${no_network[@]}" \
                    "$python" -c "$parsedmarc_runner" "$pm_input" "$CAP_MIB"
            fi
            case $status in
            0)
                read -r parse counted_records messages dkim spf network <"$work/parsedmarc.out"
                if [ "$network" != 0 ]; then
                    failures+=("parsedmarc used the network $network times at $records records")
                fi
                pm_counts="$counted_records $messages $dkim $spf"
                pm_parse+=("$parse") pm_wall+=("$wall") pm_cpu+=("$cpu") pm_peak+=("$peak_kib")
                echo "   parse $(secs "$parse"), process $(secs "$wall"), CPU $cpu s, $(mib "$peak_kib")" >&2
                ;;
            124) pm_unfinished="did not finish within $CAP_SECONDS s" ;;
            3) pm_unfinished="did not finish within $CAP_MIB MiB" pm_peak+=("$peak_kib") ;;
            *)
                cat "$work/parsedmarc.err" >&2
                echo "parsedmarc failed (exit $status) at $records records" >&2
                print_table
                exit 1
                ;;
            esac
        fi
        if [ "$run" -le "$sink_runs" ]; then
            echo "== $records records: dmarc-sink run $run of $sink_runs" >&2
            db="$work/store.sqlite"
            remove_store "$db"
            measure dmarc-sink target/release/dmarc-sink --db "$db" import "$file"
            if [ "$status" != 0 ]; then
                cat "$work/dmarc-sink.err" >&2
                echo "dmarc-sink import failed (exit $status) at $records records" >&2
                print_table
                exit 1
            fi
            sink_counts=$("$python" -c "$store_counts" "$db")
            remove_store "$db"
            sink_wall+=("$wall") sink_cpu+=("$cpu") sink_peak+=("$peak_kib")
            echo "   import $(secs "$wall"), CPU $cpu s, $(mib "$peak_kib")" >&2
        fi
    done

    read -r counted_records messages dkim spf <<<"$sink_counts"
    if [ "$counted_records" != "$records" ]; then
        failures+=("dmarc-sink stored $counted_records of $records records")
    fi
    if [ -z "$pm_unfinished" ] && [ "$pm_counts" != "$sink_counts" ]; then
        failures+=("at $records records parsedmarc read (records messages dkim spf) $pm_counts, dmarc-sink stored $sink_counts")
    fi

    sink_time=$(median "${sink_wall[@]}")
    sink_peak_kib=$(maximum "${sink_peak[@]}")
    if [ -z "$pm_unfinished" ]; then
        pm_time=$(median "${pm_parse[@]}")
        ratio=$(awk -v p="$pm_time" -v s="$sink_time" 'BEGIN { printf "%.1f", p / s }')
        pm_cells="$(secs "$pm_time")$pm_note | $(secs "$(median "${pm_wall[@]}")") | $(median "${pm_cpu[@]}") s | $(mib "$(maximum "${pm_peak[@]}")")"
        agreement="yes: $messages messages"
    else
        pm_cells="$pm_unfinished | | |"
        if [[ $pm_unfinished == *" s" ]]; then
            ratio=$(awk -v p="$CAP_SECONDS" -v s="$sink_time" 'BEGIN { printf "> %.0f", p / s }')
        else
            ratio="—"
        fi
        agreement="not compared"
    fi
    row="| $records | $(mib $((xml_bytes / 1024))) | $(mib $((gz_bytes / 1024))) | $pm_cells | $(secs "$sink_time") | $(median "${sink_cpu[@]}") s | $(mib "$sink_peak_kib") | $ratio | $agreement |"
    echo "$row" >&2
    rows+=("$row")

    if [ "$records" = 100000 ]; then
        if [ -n "$pm_unfinished" ] && [[ $pm_unfinished != *" s" ]]; then
            failures+=("no ratio at 100000 records: parsedmarc $pm_unfinished")
        elif awk -v r="${ratio#> }" -v min="$MIN_RATIO_AT_100000" 'BEGIN { exit !(r < min) }'; then
            failures+=("parsedmarc ÷ dmarc-sink at 100000 records is $ratio, below $MIN_RATIO_AT_100000")
        fi
    fi
    if [ "$records" = 1000000 ] && [ "$sink_peak_kib" -ge $((MAX_PEAK_MIB_AT_1000000 * 1024)) ]; then
        failures+=("dmarc-sink peak RSS at 1000000 records is $(mib "$sink_peak_kib"), not under $MAX_PEAK_MIB_AT_1000000 MiB")
    fi
    rm -f "$file" "$work/report-$records.xml"
done

echo "== load average at end: $(cut -d ' ' -f 1-3 /proc/loadavg)" >&2
print_table

if [ ${#failures[@]} -gt 0 ]; then
    printf 'FAILED: %s\n' "${failures[@]}" >&2
    exit 1
fi
