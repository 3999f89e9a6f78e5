#!/usr/bin/env bash
# The demo: builds rapportd and rapportctl, starts a throwaway Dovecot with sample mail on
# loopback, and shows the daemon at work on the sample rules: the account directory, the first
# scan, live customer mail, the Sent audit, a lost account writing back, follow-up nudges.
# Everything it starts is stopped and removed when it ends (also on Ctrl-C or an error).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bash .ci/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default -j2 --target rapportd rapportctl

demo=$(mktemp -d /tmp/rapport-demo-XXXXXX)
chmod 755 "$demo"
pids=()
cleanup() {
  for ((i=${#pids[@]}-1; i>=0; i--)); do kill "${pids[$i]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$demo"
}
trap cleanup EXIT INT TERM

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ctl() { build/bin/rapportctl --config "$demo/settings.json" "$@"; }

# --- a throwaway Dovecot: own config, own dirs, an unprivileged mail user ------------------
imap_port=$(free_port); api_port=$(free_port)
mail_user=mail; uid=$(id -u $mail_user); gid=$(id -g $mail_user)
mkdir -p "$demo/home/Maildir"
for folder in INBOX Sent Drafts; do
  dir="$demo/home/Maildir"; [ "$folder" = INBOX ] || dir="$demo/home/Maildir/.$folder"
  mkdir -p "$dir/cur" "$dir/new" "$dir/tmp"
  n=0
  for f in packaging/examples/demo/mail/$folder/*.eml; do
    [ -e "$f" ] || continue
    n=$((n+1)); cp "$f" "$dir/cur/$((1700000000+n)).M${n}P1.demo:2,"
  done
done
chown -R $uid:$gid "$demo/home"
echo "mia:{PLAIN}demo-secret:$uid:$gid::$demo/home::" > "$demo/passwd"
cat > "$demo/dovecot.conf" <<CONF
instance_name = rapport-demo-$imap_port
protocols = imap
listen = 127.0.0.1
base_dir = $demo/run
state_dir = $demo/dovecot-state
log_path = $demo/dovecot.log
mail_fsync = never
mail_location = maildir:~/Maildir
first_valid_uid = 1
disable_plaintext_auth = no
ssl = no
imap_idle_notify_interval = 1 secs
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $demo/passwd
}
userdb {
  driver = passwd-file
  args = username_format=%u $demo/passwd
}
namespace inbox {
  inbox = yes
  separator = /
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $imap_port
  }
  inet_listener imaps {
    port = 0
  }
}
CONF
/usr/sbin/dovecot -F -c "$demo/dovecot.conf" &
pids+=($!)
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$imap_port) 2>/dev/null && break; sleep 0.1; done

# The shipped example rules, with the summary draft's delay cut from 5 minutes to 2 seconds so
# that the demo call's draft appears while you watch.
python3 - packaging/examples/rules.json "$demo/rules.json" <<'PY'
import json, sys
rules = json.load(open(sys.argv[1]))
rules.setdefault("rules", {}).setdefault("summary_drafts", {})["delay"] = "PT2S"
json.dump(rules, open(sys.argv[2], "w"))  # one line: the sed edits below match it
PY
# A calendar with times relative to now: a call with Acme that ends a few seconds into the
# demo, an Outlook invitation with a Windows time-zone name, a weekly series with a cancelled
# occurrence, and an internal meeting (not a customer meeting).
t() { date -u -d "$1" +%Y%m%dT%H%M%SZ; }
cat > "$demo/calendar.ics" <<ICS
BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Rapport demo//EN
BEGIN:VEVENT
UID:demo-acme-call
DTSTAMP:20261101T000000Z
DTSTART:$(t '-30 min')
DTEND:$(t '+25 sec')
SUMMARY:Acme user-day prep call
DESCRIPTION:1. Who speaks at the user day\n2. Jane's reference quote\n3. Travel
ORGANIZER;CN=Mia Marketing:mailto:mia@vendor.example
ATTENDEE;CN=Jane Doe;PARTSTAT=ACCEPTED:MAILTO:JANE@ACME.EXAMPLE
END:VEVENT
BEGIN:VEVENT
UID:demo-outlook-invite
DTSTAMP:20261101T000000Z
DTSTART;TZID="W. Europe Standard Time":$(date -u -d '+2 days' +%Y%m%d)T100000
DTEND;TZID="W. Europe Standard Time":$(date -u -d '+2 days' +%Y%m%d)T110000
SUMMARY:Globex discovery (Outlook invite)
ORGANIZER;CN=Hank Scorpio:mailto:hank.scorpio@gmail.com
ATTENDEE;CN=Mia Marketing;PARTSTAT=TENTATIVE:mailto:mia@vendor.example
END:VEVENT
BEGIN:VEVENT
UID:demo-weekly
DTSTAMP:20261101T000000Z
DTSTART:$(date -u -d '+1 day' +%Y%m%d)T150000Z
DTEND:$(date -u -d '+1 day' +%Y%m%d)T153000Z
RRULE:FREQ=WEEKLY;COUNT=4
EXDATE:$(date -u -d '+15 days' +%Y%m%d)T150000Z
SUMMARY:Acme weekly sync
ORGANIZER:mailto:mia@vendor.example
ATTENDEE;PARTSTAT=ACCEPTED:mailto:raj@eu.acme.example
END:VEVENT
BEGIN:VEVENT
UID:demo-internal
DTSTAMP:20261101T000000Z
DTSTART:$(t '+3 hours')
DTEND:$(t '+4 hours')
SUMMARY:Marketing stand-up
ORGANIZER:mailto:mia@vendor.example
ATTENDEE:mailto:bob@vendor.example
END:VEVENT
END:VCALENDAR
ICS
cat > "$demo/settings.json" <<JSON
{"user": {"name": "Mia Marketing", "address": "mia@vendor.example"},
 "rules": "rules.json", "state_dir": "state",
 "api": {"port": $api_port, "token_file": "state/token"},
 "mailboxes": [{"id": "work",
   "imap": {"host": "127.0.0.1", "port": $imap_port, "security": "none", "username": "mia", "password": "demo-secret"},
   "folders": {"watch": ["INBOX", "Sent"], "sent": "Sent", "drafts": "Drafts"}}],
 "calendars": [{"id": "work", "url": "file:calendar.ics", "poll_interval": "PT5S"}]}
JSON
chmod 600 "$demo/settings.json"

step "1. The admin's rules, validated, as an account directory"
build/bin/rapportd --check-config "$demo/settings.json" --print-directory

step "2. A broken rules file is refused with every error and where it is"
sed -e 's/"owner": "rita"/"owner": "rtia"/' -e 's/"P45D", "P90D"/"P90D", "P45D"/' "$demo/rules.json" > "$demo/broken.json"
sed 's/"rules.json"/"broken.json"/' "$demo/settings.json" > "$demo/broken-settings.json"
chmod 600 "$demo/broken-settings.json"
build/bin/rapportd --check-config "$demo/broken-settings.json" 2>&1 || echo "(exit status $?: refused, as expected)"

step "3. Start rapportd; it scans the mailbox (history is recorded, not announced)"
build/bin/rapportd --config "$demo/settings.json" 2> "$demo/rapportd.log" &
pids+=($!)
daemon_pid=$!
for _ in $(seq 100); do grep -q "rapportd running" "$demo/rapportd.log" && break; sleep 0.1; done
ctl status --follow

step "4. Whose address is this, and why? (the Thunderbird plugin asks the same)"
ctl lookup jane@acme.example raj@eu.acme.example hank.scorpio@gmail.com someone@gmail.com news@shop.example

step "5. Marketing writes to Acme's reference contact: who must be copied?"
ctl check --from mia@vendor.example --to "Jane Doe <jane@acme.example>"

step "6. Live mail arrives while 'rapportctl watch' listens"
ctl watch > "$demo/watch.txt" 2>/dev/null &
pids+=($!)
sleep 0.5
doveadm -c "$demo/dovecot.conf" save -u mia -m INBOX < packaging/examples/demo/mail/live-inbound.eml
doveadm -c "$demo/dovecot.conf" save -u mia -m Sent < packaging/examples/demo/mail/live-sent.eml
sleep 2
sed 's/^/  /' "$demo/watch.txt"

step "7. Bob marks Initech lost to Hooli: follow-ups are scheduled"
ctl lost initech --competitor Hooli --delivery 2027-01-31
ctl snooze 1 P7D
ctl nudges

step "8. Customer meetings from the calendar (UTC), and a call that just ended"
ctl meetings
for _ in $(seq 40); do grep -q "customer meeting ended" "$demo/rapportd.log" && break; sleep 1; done
grep "customer meeting ended" "$demo/rapportd.log" | sed 's/^/  /'

step "9. Two seconds later its summary draft is in Mia's Drafts folder, exactly once (beside the FYI draft to Bob from step 6)"
for _ in $(seq 30); do grep -q '"Summary:.*appended to Drafts' "$demo/rapportd.log" && break; sleep 0.5; done
ctl drafts
echo "  The summary draft as any mail client sees it (Drafts, flagged \\Draft):"
doveadm -c "$demo/dovecot.conf" fetch -u mia 'flags' mailbox Drafts SUBJECT Summary | sed 's/^/    /'
doveadm -c "$demo/dovecot.conf" fetch -u mia 'text' mailbox Drafts SUBJECT Summary | sed '1d; s/^/    /'

step "9b. How Acme is engaged: who wrote lately, champions, single-threaded, silent days"
ctl health acme

step "10. Reload with a broken rules file: refused, the old rules stay, clients are told"
cp "$demo/rules.json" "$demo/rules.good"; cp "$demo/broken.json" "$demo/rules.json"
kill -HUP $daemon_pid; sleep 0.5
cp "$demo/rules.good" "$demo/rules.json"; kill -HUP $daemon_pid; sleep 0.5
tail -n 2 "$demo/watch.txt" | sed 's/^/  /'
ctl status

step "11. The user's mail is untouched: no flag was changed, nothing deleted"
doveadm -c "$demo/dovecot.conf" fetch -u mia 'mailbox uid flags' ALL | paste -sd' ' | sed 's/mailbox: /\n  /g'
echo
echo "Demo finished; everything it started is stopped and $demo is removed."
