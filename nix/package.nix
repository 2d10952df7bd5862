# strata built from this repository with nixpkgs: `pkgs.callPackage ./nix/package.nix { }`
# (nix/default.nix does so when given `pkgs` and no `strata`). Not built by this repository's
# tests (they have no nixpkgs); `nix-instantiate --parse` checks it.
{
  lib,
  stdenv,
  cmake,
  ninja,
  pkg-config,
  patchelf,
  cli11,
  curl,
  fmt,
  gtest,
  libarchive,
  libcap,
  libdeflate,
  libseccomp,
  nlohmann_json,
  openssl,
  sqlite,
  util-linux,
  zlib,
  zstd,
}:
stdenv.mkDerivation {
  pname = "strata";
  version = "0.1.0";

  src = lib.cleanSourceWith {
    src = ./..;
    filter = path: type: !(builtins.elem (baseNameOf path) [ "build" ".git" ]);
  };

  nativeBuildInputs = [ cmake ninja pkg-config patchelf ];
  buildInputs = [
    cli11 curl fmt gtest libarchive libcap libdeflate libseccomp nlohmann_json openssl sqlite
    util-linux zlib zstd
  ];

  # nixpkgs' libraries as shared objects: the static archives CMakeLists.txt prefers are
  # Debian's.
  cmakeFlags = [ "-DSTRATA_STATIC_DEPS=OFF" ];

  ninjaFlags = [ "strata" ];
  installPhase = ''
    runHook preInstall
    install -Dm755 strata $out/bin/strata
    runHook postInstall
  '';
  # libcurl is dlopen()ed at the first registry request: strata must find it.
  postFixup = ''
    patchelf --add-rpath ${lib.getLib curl}/lib $out/bin/strata
  '';

  meta = {
    description = "Docker/OCI image builder without root, VM or daemon: the backend of dockerTools";
    mainProgram = "strata";
    platforms = lib.platforms.linux;
  };
}
