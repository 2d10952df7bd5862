# dockerTools backed by strata: the functions and argument names of nixpkgs'
# pkgs/build-support/docker/default.nix, each a derivation calling strata, with no VM
# and no KVM (runAsRoot runs in strata's rootless sandbox inside the build sandbox).
#
#   dockerTools = import ./nix { strata = ./path/to/strata; };   # Nix builtins only
#   dockerTools = import ./nix { pkgs = import <nixpkgs> { }; }; # strata from ./package.nix
#
# Store paths reach an image by Nix's own closure (exportReferencesGraph, given to strata
# as closureGraph), never by scanning.
{
  # A strata package (a dir with bin/strata) or the strata binary itself. Default with
  # pkgs: pkgs.callPackage ./package.nix { }.
  strata ? null,
  # nixpkgs. Without it, builds use the sandbox's /bin/sh and strata only.
  pkgs ? null,
  system ? builtins.currentSystem,
  # Packages whose bin/ make PATH of every build: root scripts (runAsRoot,
  # fakeRootCommands) find a shell and tools there when the image has none. Default with
  # pkgs: its runtime shell and coreutils (what dockerTools gives root scripts); without:
  # none (strata's toolbox, if it has one).
  tools ? null,
}:
let
  lib = import ./lib.nix;
  inherit (lib) optionalAttrs toList withoutNulls checkArgs requireArgs;

  strataPackage =
    if strata != null then strata
    else if pkgs != null then pkgs.callPackage ./package.nix { }
    else throw "nix/default.nix: give `strata` (a strata package or binary) or `pkgs` (nixpkgs, to build strata with nix/package.nix)";
  strataBin =
    if builtins.isAttrs strataPackage || builtins.pathExists "${toString strataPackage}/bin/strata"
    then "${strataPackage}/bin/strata"
    else "${strataPackage}";

  shell = if pkgs != null then pkgs.runtimeShell else "/bin/sh";
  toolPackages =
    if tools != null then tools
    else if pkgs != null then [ pkgs.runtimeShellPackage pkgs.coreutils ]
    else [ ];
  defaultArchitecture = lib.goArch system;
  # What every spec starts from: this system's architecture and the store dir of the Nix
  # evaluating (store paths in images are where this Nix keeps them).
  specDefaults = { architecture = defaultArchitecture; storeDir = builtins.storeDir; };
  # stdenv's SOURCE_DATE_EPOCH, which dockerTools' buildImage, mkPureLayer, mkRootLayer and
  # exportImage give tar --mtime (1980-01-01).
  stdenvEpoch = "315532800";
  out = builtins.placeholder "out";

  # A derivation running `builder.sh ACTION ARGS…` with env (strings, lists, paths).
  mkDerivation = { name, action, args ? [ ], env ? { } }:
    derivation ({
      inherit name system;
      builder = shell;
      args = [ ./builder.sh action ] ++ args;
      strata = strataBin;
    } // optionalAttrs (toolPackages != [ ]) {
      PATH = lib.concatMapSep ":" (p: "${p}/bin") toolPackages;
    } // env);

  # The env giving builder.sh a spec: JSON in a file (passAsFile); with tagFromHash, the
  # builder adds "tag" = the output hash (dockerTools' tag when tag = null).
  specEnv = { spec, tagFromHash }: {
    spec = builtins.toJSON spec;
    passAsFile = [ "spec" ];
    tagFromHash = if tagFromHash then "1" else "";
  };
  imageSpecEnv = spec: specEnv { inherit spec; tagFromHash = !(spec ? tag); };

  # A file naming (as JSON) every store path in `values`: its closure, which
  # exportReferencesGraph exports, is the closure of them all (nixpkgs' overallClosure).
  closureRoots = name: values:
    mkDerivation {
      name = "${name}-closure-roots";
      action = "text";
      env = { text = builtins.toJSON values; passAsFile = [ "text" ]; };
    };

  # What every image derivation carries besides its output: dockerTools' passthru, and
  # the spec strata got (imageTag is its tag when tag = null).
  imagePassthru = { name, imageTag, drv, spec, buildArgs, extra ? { } }:
    drv // extra // {
      imageName = lib.toLower name;
      inherit imageTag buildArgs;
      spec = spec // { tag = imageTag; };
    };
  # dockerTools' tag: as given, else the hash of the output of `drv`.
  tagOf = tag: drv: if tag != null then tag else lib.hashOf drv.outPath;

  # Nix-only arguments (derivation attributes, VM sizes strata has no use for).
  notForStrata = [ "meta" "passthru" "diskSize" "buildVMMemorySize" "debug" ];

  buildImageArguments = [
    "name" "tag" "fromImage" "fromImageName" "fromImageTag" "copyToRoot" "keepContentsDirlinks"
    "config" "architecture" "runAsRoot" "extraCommands" "diskSize" "buildVMMemorySize" "created"
    "uid" "gid" "contents" "compressor" "includeNixDB" "meta"
  ];
  streamLayeredImageArguments = [
    "name" "tag" "fromImage" "contents" "config" "architecture" "created" "mtime" "uid" "gid"
    "uname" "gname" "maxLayers" "extraCommands" "fakeRootCommands" "enableFakechroot"
    "includeStorePaths" "includeNixDB" "passthru" "meta" "layeringPipeline" "debug"
  ];
  buildLayeredImageArguments = streamLayeredImageArguments ++ [ "compressor" ];

  # The conf streamLayeredImage makes: the spec, with the closure graph of everything the
  # image's store layers may hold, as a store path; its hash is the tag when tag = null.
  layeredConf = function: known: args:
    let
      a = requireArgs function [ "name" ] (checkArgs function known args);
      baseName = baseNameOf a.name;
      roots = closureRoots baseName [
        (a.contents or null) (a.config or null) (a.extraCommands or null)
        (a.fakeRootCommands or null) (a.layeringPipeline or null)
      ];
      graph = mkDerivation {
        name = "${baseName}-closure-graph";
        action = "graph";
        env.exportReferencesGraph = [ "closure-graph" roots ];
      };
      spec = specDefaults
        // withoutNulls (removeAttrs a (notForStrata ++ [ "compressor" ]))
        // { closureGraph = graph; };
      conf = mkDerivation {
        name = "${baseName}-conf.json";
        action = "conf";
        env = imageSpecEnv spec;
      };
    in
    { inherit a baseName spec conf; imageTag = tagOf (a.tag or null) conf; };

  streamLayeredImage = args:
    let
      c = layeredConf "streamLayeredImage" streamLayeredImageArguments args;
      drv = mkDerivation {
        name = "stream-${c.baseName}";
        action = "strata";
        args = [ "stream-script" c.conf "-o" out "--shell" shell ];
      } // optionalAttrs (c.a ? meta) { inherit (c.a) meta; };
    in
    imagePassthru {
      inherit (c.a) name;
      inherit (c) imageTag spec;
      inherit drv;
      buildArgs = args;
      extra = (c.a.passthru or { }) // { inherit (c) conf; isExe = true; };
    };

  buildLayeredImage = args:
    let
      c = layeredConf "buildLayeredImage" buildLayeredImageArguments args;
      compressor = c.a.compressor or "gz";
      stream = streamLayeredImage (removeAttrs args [ "compressor" ]);
      drv = mkDerivation {
        name = "${c.baseName}.tar${lib.compressorSuffix "buildLayeredImage" compressor}";
        action = "strata";
        # dockerTools' layers are plain tar inside an archive compressed whole
        args = [ "layered" c.conf "-o" out "--compress" "none" "--archive-compress" compressor "--no-cache" ];
      } // optionalAttrs (c.a ? meta) { inherit (c.a) meta; };
    in
    imagePassthru {
      inherit (c.a) name;
      inherit (c) imageTag spec;
      inherit drv;
      buildArgs = args;
      extra = (c.a.passthru or { }) // { inherit stream; inherit (c) conf; };
    };

  buildImage = args:
    let
      a = requireArgs "buildImage" [ "name" ] (checkArgs "buildImage" buildImageArguments args);
      baseName = baseNameOf a.name;
      compressor = a.compressor or "gz";
      roots = closureRoots baseName [
        (a.copyToRoot or null) (a.contents or null) (a.runAsRoot or null) (a.extraCommands or null)
      ];
      # dockerTools' buildImage: plain tar layers in an archive compressed whole
      spec = specDefaults
        // withoutNulls (removeAttrs a (notForStrata ++ [ "compressor" ]))
        // { compressor = "none"; closureGraph = "closure-graph"; };
      drv = mkDerivation {
        name = "docker-image-${baseName}.tar${lib.compressorSuffix "buildImage" compressor}";
        action = "spec";
        args = [ "build" "-o" out "--archive-compress" compressor ];
        env = imageSpecEnv spec // {
          exportReferencesGraph = [ "closure-graph" roots ];
          SOURCE_DATE_EPOCH = stdenvEpoch;
        };
      } // optionalAttrs (a ? meta) { inherit (a) meta; };
    in
    imagePassthru { inherit (a) name; imageTag = tagOf (a.tag or null) drv; inherit drv spec; buildArgs = args; };

  # A layer dir's `json` is baseJson's (architecture, config, created, os) with the
  # layer's checksum, as dockerTools writes it; baseJson is read at evaluation.
  baseJsonSpec = function: baseJson:
    let
      base = builtins.fromJSON (builtins.readFile baseJson);
      known = [ "architecture" "config" "created" "os" ];
      unknown = builtins.filter (n: !(builtins.elem n known)) (builtins.attrNames base);
    in
    if unknown != [ ] then
      throw "strata's dockerTools.${function}: baseJson has ${lib.quoted unknown}; strata's layer json holds only ${lib.quoted known}"
    else specDefaults // withoutNulls base;

  mkPureLayerArguments = [ "name" "baseJson" "copyToRoot" "keepContentsDirlinks" "extraCommands" "uid" "gid" ];
  mkRootLayerArguments = [
    "name" "runAsRoot" "copyToRoot" "keepContentsDirlinks" "baseJson" "fromImage" "fromImageName"
    "fromImageTag" "diskSize" "buildVMMemorySize" "extraCommands"
  ];

  layerDir = function: known: required: args:
    let
      a = requireArgs function required (checkArgs function known args);
      # dockerTools' layers hold what copyToRoot and the scripts put there, no closure
      spec = baseJsonSpec function a.baseJson
        // withoutNulls (removeAttrs a (notForStrata ++ [ "baseJson" ]))
        // { compressor = "none"; includeStorePaths = false; };
    in
    mkDerivation {
      name = "docker-layer-${a.name}";
      action = "spec";
      args = [ "layer" "-o" out ];
      env = specEnv { inherit spec; tagFromHash = false; } // { SOURCE_DATE_EPOCH = stdenvEpoch; };
    } // { inherit spec; buildArgs = args; };

  mkPureLayer = layerDir "mkPureLayer" mkPureLayerArguments [ "name" "baseJson" ];
  mkRootLayer = layerDir "mkRootLayer" mkRootLayerArguments [ "name" "runAsRoot" "baseJson" ];

  exportImage = args:
    let
      a = requireArgs "exportImage" [ "fromImage" ]
        (checkArgs "exportImage" [ "name" "fromImage" "fromImageName" "fromImageTag" "diskSize" ] args);
      name = a.name or (if builtins.isAttrs a.fromImage then a.fromImage.name else baseNameOf (toString a.fromImage));
    in
    mkDerivation {
      inherit name;
      action = "strata";
      args = [ "export" a.fromImage "-o" out ]
        ++ (if (a.fromImageName or null) != null then [ "--name" a.fromImageName ] else [ ])
        ++ (if (a.fromImageTag or null) != null then [ "--tag" a.fromImageTag ] else [ ]);
      env.SOURCE_DATE_EPOCH = stdenvEpoch;
    } // { buildArgs = args; };

  # One docker-archive of several images (dockerTools.mergeImages): every RepoTag kept, a
  # layer several share stored once, compressed as the last image is (dockerTools looks at
  # its type: strata merge --archive-compress last does the same).
  mergeImages = images:
    if !builtins.isList images then throw "strata's dockerTools.mergeImages: takes a list of images, not ${builtins.typeOf images}"
    else if images == [ ] then throw "strata's dockerTools.mergeImages: the list of images is empty"
    else
      mkDerivation {
        name = "merge-docker-images";
        action = "strata";
        args = [ "merge" ] ++ images ++ [ "-o" out "--archive-compress" "last" ];
        env.SOURCE_DATE_EPOCH = stdenvEpoch;
      } // { inherit images; };

  pullImageArguments = [
    "imageName" "imageDigest" "sha256" "hash" "outputHash" "outputHashAlgo" "os" "arch"
    "finalImageName" "finalImageTag" "tlsVerify" "name"
  ];
  pullImage = args:
    let
      a = requireArgs "pullImage" [ "imageName" "imageDigest" ] (checkArgs "pullImage" pullImageArguments args);
      finalImageName = a.finalImageName or a.imageName;
      finalImageTag = a.finalImageTag or "latest";
      fixName = builtins.replaceStrings [ "/" ":" ] [ "-" "-" ];
      hash =
        if a ? hash then { outputHash = a.hash; }
        else if a ? sha256 then { outputHash = a.sha256; outputHashAlgo = "sha256"; }
        else if a ? outputHash then { inherit (a) outputHash; outputHashAlgo = a.outputHashAlgo or "sha256"; }
        else throw "strata's dockerTools.pullImage: give the output's hash as 'hash', 'sha256' or 'outputHash'";
    in
    mkDerivation {
      name = a.name or (fixName "docker-image-${finalImageName}-${finalImageTag}.tar");
      action = "strata";
      args = [
        "pull" "--image-name" a.imageName "--image-digest" a.imageDigest "-o" out
        "--os" (a.os or "linux") "--arch" (a.arch or defaultArchitecture)
        "--final-image-name" finalImageName "--final-image-tag" finalImageTag
        "--tls-verify" (if a.tlsVerify or true then "true" else "false")
      ];
      env = hash // {
        outputHashMode = "flat";
        impureEnvVars = [ "http_proxy" "https_proxy" "ftp_proxy" "all_proxy" "no_proxy" "HTTP_PROXY" "HTTPS_PROXY" "NO_PROXY" ];
      } // optionalAttrs (pkgs != null) { SSL_CERT_FILE = "${pkgs.cacert}/etc/ssl/certs/ca-bundle.crt"; };
    } // {
      imageName = finalImageName;
      imageTag = finalImageTag;
      inherit (a) imageDigest;
      buildArgs = args;
    };
in
{
  inherit buildImage buildLayeredImage streamLayeredImage mkPureLayer mkRootLayer exportImage
    mergeImages pullImage;

  buildImageWithNixDb = args: buildImage (args // { includeNixDB = true; });
  buildLayeredImageWithNixDb = args: buildLayeredImage (args // { includeNixDB = true; });

  # For runAsRoot: the account files shadow-utils needs, where missing (strata gives root
  # scripts its snippet as $shadowSetup); with pkgs, shadow's tools on PATH as dockerTools'.
  shadowSetup = (if pkgs != null then "export PATH=${pkgs.shadow}/bin:$PATH\n" else "")
    + ''eval "$shadowSetup"'' + "\n";

  # The strata these functions call.
  strata = strataPackage;
}
