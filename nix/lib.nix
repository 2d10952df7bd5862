# Helpers of nix/default.nix, with Nix builtins only (no nixpkgs lib).
rec {
  optionalAttrs = cond: attrs: if cond then attrs else { };

  toList = x: if x == null then [ ] else if builtins.isList x then x else [ x ];

  concatMapSep = sep: f: xs: builtins.concatStringsSep sep (map f xs);

  quoted = names: concatMapSep ", " (n: "'${n}'") names;

  # The attrs whose value is not null.
  withoutNulls = attrs: removeAttrs attrs (builtins.filter (n: attrs.${n} == null) (builtins.attrNames attrs));

  # lib.toLower: image names are lower-cased, as dockerTools does.
  toLower = builtins.replaceStrings
    (builtins.genList (i: builtins.substring i 1 "ABCDEFGHIJKLMNOPQRSTUVWXYZ") 26)
    (builtins.genList (i: builtins.substring i 1 "abcdefghijklmnopqrstuvwxyz") 26);

  # The hash part of a store path: what dockerTools tags an image with when tag = null.
  hashOf = path: builtins.substring 0 32 (baseNameOf (builtins.unsafeDiscardStringContext (toString path)));

  # args itself, or an evaluation error naming every argument `known` lacks.
  checkArgs = function: known: args:
    let
      unknown = builtins.filter (n: !(builtins.elem n known)) (builtins.attrNames args);
    in
    if unknown == [ ] then args
    else throw ("strata's dockerTools.${function}: unknown argument${if builtins.length unknown > 1 then "s" else ""} "
      + "${quoted unknown}; it takes ${quoted known}");

  # args with `required` present, else an evaluation error naming what is missing.
  requireArgs = function: required: args:
    let
      missing = builtins.filter (n: !(args ? ${n})) required;
    in
    if missing == [ ] then args
    else throw "strata's dockerTools.${function}: missing argument${if builtins.length missing > 1 then "s" else ""} ${quoted missing}";

  # The Go architecture name of a Nix system, as nixpkgs' go.GOARCH gives it.
  goArch = system:
    let
      cpu = builtins.head (builtins.split "-" system);
      names = {
        x86_64 = "amd64";
        i686 = "386";
        aarch64 = "arm64";
        armv5tel = "arm";
        armv6l = "arm";
        armv7l = "arm";
        powerpc64le = "ppc64le";
        riscv64 = "riscv64";
        s390x = "s390x";
        mips64el = "mips64le";
        loongarch64 = "loong64";
      };
    in
    names.${cpu} or cpu;

  # dockerTools' compressors: the suffix each gives the output's name.
  compressorSuffix = function: compressor:
    let
      suffixes = { none = ""; gz = ".gz"; zstd = ".zst"; };
    in
    suffixes.${compressor} or (throw "strata's dockerTools.${function}: compressor '${toString compressor}' is not one of 'none', 'gz', 'zstd'");
}
