# The builder of every derivation nix/default.nix makes: `sh builder.sh ACTION ARGS…`.
# POSIX sh and its builtins only (the Nix sandbox's /bin/sh may be a busybox without
# applets, and no coreutils are on PATH): strata does the work.
set -eu

# This derivation's output hash: the tag dockerTools gives an image when tag = null.
own_hash() {
  h=${out##*/}
  printf '%s' "${h%%-*}"
}

# copy_text FROM TO: a text file, line by line.
copy_text() {
  while IFS= read -r line || [ -n "$line" ]; do printf '%s\n' "$line"; done <"$1" >"$2"
}

# write_spec TO: the spec (one line of JSON from builtins.toJSON, passed as a file), with
# "tag" set to this derivation's output hash when the caller gave none.
write_spec() {
  spec=""
  IFS= read -r spec <"$specPath" || [ -n "$spec" ]
  if [ "${tagFromHash:-}" = 1 ]; then spec="{\"tag\":\"$(own_hash)\",${spec#\{}"; fi
  printf '%s\n' "$spec" >"$1"
}

action=$1
shift
case $action in
text) # a file holding $text: what it names are its references (nixpkgs' writeText)
  copy_text "$textPath" "$out" ;;
graph) # the closure of $roots as exportReferencesGraph wrote it
  copy_text closure-graph "$out" ;;
conf) # the spec streamLayeredImage's program gives strata
  write_spec "$out" ;;
spec) # the spec in the build dir, then strata ARGS… spec.json
  write_spec spec.json
  sub=$1
  shift
  exec "$strata" "$sub" spec.json "$@" ;;
strata) # strata ARGS… as they are
  exec "$strata" "$@" ;;
*)
  printf 'nix/builder.sh: unknown action %s\n' "$action" >&2
  exit 2 ;;
esac
