#!/usr/bin/env bash
# strata shadow-setup (dockerTools.shadowSetup): creates etc/passwd, shadow, group,
# gshadow, pam.d/other and login.defs with the seed's contents where missing, leaves
# existing ones untouched, never writes outside the root through a symlink; the
# --script form run as root inside the image gives the same files.
source "$(dirname "$0")/lib/common.sh"
need jq chroot stat

cd "$WORK"
expect_file() { # path mode contents
  [ -f "$1" ] && [ ! -L "$1" ] || fail "$1 was not created as a regular file"
  assert_eq "$2" "$(stat -c %a "$1")" "mode of ${1#"$WORK"/}"
  [ "$(cat "$1"; echo .)" = "$3." ] || fail "contents of $1: $(cat "$1")"
}
PAM_OTHER='account sufficient pam_unix.so
auth sufficient pam_rootok.so
password requisite pam_unix.so nullok sha512
session required pam_unix.so
'

mkdir empty
"$STRATA" shadow-setup empty --json >created.json
expect_file empty/etc/passwd 644 $'root:x:0:0::/root:/bin/sh\n'
expect_file empty/etc/shadow 640 $'root:!x:::::::\n'
expect_file empty/etc/group 644 $'root:x:0:\n'
expect_file empty/etc/gshadow 640 $'root:x::\n'
expect_file empty/etc/pam.d/other 644 "$PAM_OTHER"
expect_file empty/etc/login.defs 644 ""
assert_eq 755 "$(stat -c %a empty/etc)" "etc/ made 0755"
assert_eq 755 "$(stat -c %a empty/etc/pam.d)" "etc/pam.d/ made 0755"
assert_eq "etc etc/group etc/gshadow etc/login.defs etc/pam.d etc/pam.d/other etc/passwd etc/shadow" \
  "$(cd empty && find . -mindepth 1 | sed "s|^\./||" | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')" "exactly those files and dirs"
assert_eq 6 "$(jq '.created | length' created.json)" "--json lists 6 created"

# A second run changes nothing.
before=$(cd empty && find . -type f -exec stat -c '%n %i %Y %s %a' {} + | sort)
"$STRATA" shadow-setup empty --json >again.json
assert_eq "$before" "$(cd empty && find . -type f -exec stat -c '%n %i %Y %s %a' {} + | sort)" "a second run leaves every file as it was"
assert_eq "0 6" "$(jq -r '"\(.created | length) \(.kept | length)"' again.json)" "--json: 0 created, 6 kept"

# Existing files are left alone; only the missing ones appear.
mkdir -p partial/etc/pam.d
printf 'admin:x:0:0::/root:/bin/bash\n' >partial/etc/passwd
chmod 600 partial/etc/passwd
printf 'custom pam\n' >partial/etc/pam.d/other
"$STRATA" shadow-setup partial -q
assert_eq "admin:x:0:0::/root:/bin/bash" "$(cat partial/etc/passwd)" "an existing passwd keeps its contents"
assert_eq 600 "$(stat -c %a partial/etc/passwd)" "an existing passwd keeps its mode"
assert_eq "custom pam" "$(cat partial/etc/pam.d/other)" "an existing pam.d/other is kept"
expect_file partial/etc/shadow 640 $'root:!x:::::::\n'
expect_file partial/etc/group 644 $'root:x:0:\n'

# Symlinks resolve inside the root: nothing is written to the host.
mkdir outside escape dangling-etc
mkdir -p "escape$WORK/outside"
ln -s "$WORK/outside" escape/etc
"$STRATA" shadow-setup escape -q
[ -z "$(ls -A outside)" ] || fail "shadow-setup wrote through a symlink to $WORK/outside: $(ls -A outside)"
expect_file "escape$WORK/outside/passwd" 644 $'root:x:0:0::/root:/bin/sh\n'
pass "an absolute etc symlink leads back inside the root, not to the host"
ln -s "$WORK/outside" dangling-etc/etc
expect_status 2 shadow-setup dangling-etc
grep -q "dangling-etc/etc is not a directory within the root" "$WORK/stderr" || fail "dangling etc: $(cat "$WORK/stderr")"
[ -z "$(ls -A outside)" ] || fail "shadow-setup wrote through a dangling etc symlink: $(ls -A outside)"
pass "an etc symlink leading nowhere inside the root -> exit 2, host untouched: $(cat "$WORK/stderr")"
mkdir -p dangling/etc
ln -s "$WORK/outside/pw" dangling/etc/passwd
"$STRATA" shadow-setup dangling -q
[ ! -e outside/pw ] || fail "shadow-setup created the target of a dangling passwd symlink outside the root"
[ -L dangling/etc/passwd ] || fail "the passwd symlink was replaced"
pass "a dangling etc/passwd symlink is left as it is, its target is not created"

# --script, run as root in the image, makes the same files.
make_busybox_root viascript
rm viascript/etc/passwd viascript/etc/group
cp -a viascript viabinary
"$STRATA" shadow-setup --script >setup.sh
if [ "$(id -u)" -eq 0 ]; then chroot viascript /bin/sh -e -c "$(cat setup.sh)"; else unshare -r chroot viascript /bin/sh -e -c "$(cat setup.sh)"; fi
"$STRATA" shadow-setup viabinary -q
list_etc() { (cd "$1/etc" && find . -type f -exec sh -c 'printf "%s %s %s\n" "$1" "$(stat -c %a "$1")" "$(sha256sum <"$1" | cut -c1-16)"' _ {} \; | sort); }
assert_eq "$(list_etc viabinary)" "$(list_etc viascript)" "--script run in the image gives the same files, modes and contents"

# Bad input.
expect_status 2 shadow-setup "$WORK/nothere"
grep -q "root directory .*/nothere does not exist" "$WORK/stderr" || fail "missing root: $(cat "$WORK/stderr")"
pass "missing root -> exit 2: $(cat "$WORK/stderr")"
expect_status 2 shadow-setup
grep -q "ROOT is missing" "$WORK/stderr" || fail "no ROOT: $(cat "$WORK/stderr")"
pass "no ROOT -> exit 2: $(cat "$WORK/stderr")"
echo x >afile
expect_status 2 shadow-setup afile
grep -q "root afile is not a directory" "$WORK/stderr" || fail "file as root: $(cat "$WORK/stderr")"
pass "a file as ROOT -> exit 2: $(cat "$WORK/stderr")"

finish
