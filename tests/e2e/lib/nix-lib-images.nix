# The images tests/e2e/nix_lib*.sh build: a Nix user's expression calling nix/default.nix
# with Nix builtins only (no nixpkgs). hello's script names greeting's store path, so
# greeting is in hello's closure only through the references Nix finds.
{ tools, dockerToolsDir }:
let
  run = name: script: derivation {
    inherit name;
    system = builtins.currentSystem;
    builder = "${tools.busybox}/bin/sh";
    args = [ "-e" "-c" script ];
    PATH = "${tools.busybox}/bin";
  };
  # strata as a package: its store path references the libraries it runs with (nix-store
  # --add registers no references; a build's output has those Nix finds in it).
  strata = run "strata" "mkdir -p $out/bin && cp ${tools.strata}/bin/strata $out/bin/ && : ${tools.glibc} ${tools.curl}";
  dockerTools = import dockerToolsDir { inherit strata; tools = [ tools.busybox ]; };

  greeting = run "greeting" "mkdir -p $out/share && echo 'hello from nix' >$out/share/greeting";
  hello = run "hello" ''
    mkdir -p $out/bin
    printf '#!${tools.busybox}/bin/sh\nread -r line <${greeting}/share/greeting && echo "$line"\n' >$out/bin/hello
    chmod 755 $out/bin/hello
  '';
  plainArgs = { name = "plain"; tag = "1"; copyToRoot = hello; config.Cmd = [ "/bin/hello" ]; };
  baseJson = builtins.toFile "base.json" (builtins.toJSON { config.Cmd = [ "/bin/hello" ]; });
in
rec {
  inherit dockerTools greeting hello;

  # buildImage: no root script; compressors.
  plain = dockerTools.buildImage (plainArgs // { compressor = "none"; });
  plainGz = dockerTools.buildImage plainArgs;
  plainZstd = dockerTools.buildImage (plainArgs // { compressor = "zstd"; });
  untagged = dockerTools.buildImage { name = "untagged"; tag = null; copyToRoot = hello; compressor = "none"; };

  # buildImage with runAsRoot: shadowSetup and chown; then one over it.
  image = dockerTools.buildImage {
    name = "Hello";
    tag = "v1";
    copyToRoot = hello;
    config = { Cmd = [ "/bin/hello" ]; Env = [ "GREETING=${greeting}" ]; };
    runAsRoot = ''
      ${dockerTools.shadowSetup}
      echo 'app:x:1000:1000::/data:/bin/sh' >>/etc/passwd
      echo 'app:x:1000:' >>/etc/group
      mkdir -p /data
      chown app:app /data
    '';
    diskSize = 2048;
    buildVMMemorySize = 1024;
    compressor = "none";
  };
  overBase = dockerTools.buildImage {
    name = "over-base"; tag = "1"; fromImage = image; compressor = "none";
    runAsRoot = "echo over >/data/over && chown app /data/over";
  };

  layered = dockerTools.buildLayeredImage {
    name = "layered"; tag = "1"; contents = [ hello ]; maxLayers = 2; compressor = "zstd";
    config.Cmd = [ "/bin/hello" ];
  };
  pipelined = dockerTools.buildLayeredImage {
    name = "pipelined"; tag = "1"; contents = [ hello ]; compressor = "none";
    layeringPipeline = [ [ "popularity_contest" ] [ "limit_layers" 1 ] ];
  };

  # streamLayeredImage: the program, and derivations capturing its stdout.
  stream = dockerTools.streamLayeredImage { name = "streamed"; contents = [ hello ]; config.Cmd = [ "/bin/hello" ]; };
  streamed = run "streamed.tar" "${stream} >$out";
  streamRoot = dockerTools.streamLayeredImage {
    name = "stream-root"; tag = "1"; contents = [ hello ];
    fakeRootCommands = "mkdir -p ./var/empty && chown 1000 ./var/empty";
  };
  streamedRoot = run "streamed-root.tar" "${streamRoot} >$out";

  layeredWithNixDb = dockerTools.buildLayeredImageWithNixDb { name = "layered-db"; tag = "1"; contents = [ hello ]; compressor = "none"; };
  withNixDb = dockerTools.buildImageWithNixDb { name = "with-db"; tag = "1"; copyToRoot = hello; compressor = "none"; };
  exported = dockerTools.exportImage { fromImage = image; diskSize = 1024; };
  pureLayer = dockerTools.mkPureLayer { name = "pure"; inherit baseJson; copyToRoot = hello; };
  rootLayer = dockerTools.mkRootLayer {
    name = "rooted"; inherit baseJson; copyToRoot = hello;
    runAsRoot = "mkdir -p /srv && chown 1000:1000 /srv";
  };
  merged = dockerTools.mergeImages [ plain untagged ];
  mergedZstd = dockerTools.mergeImages [ plain plainZstd ];
  mergedNotList = dockerTools.mergeImages plain;

  # Argument errors.
  unknownArg = dockerTools.buildImage { name = "x"; copyToRoot = hello; bogusArg = 1; runAsRoots = ""; };
  unknownLayered = dockerTools.streamLayeredImage { name = "x"; maxLayer = 3; compressor = "gz"; };
  missingName = dockerTools.buildLayeredImage { contents = [ hello ]; };
  badCompressor = dockerTools.buildImage { name = "x"; compressor = "bzip2"; };
}
