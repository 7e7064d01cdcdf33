# dpkg status (+ os-release) -> in-toto statement with an SPDX 2.3 document. Files: os-release, status.
function esc(s) {
  gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); gsub(/\t/, "\\t", s); gsub(/\r/, "\\r", s)
  gsub(/[\001-\037]/, " ", s)
  return s
}
function pct(s) { gsub(/%/, "%25", s); gsub(/:/, "%3A", s); gsub(/\+/, "%2B", s); return s }
function idsafe(s) { gsub(/[^A-Za-z0-9.-]/, "-", s); return s }
function supplier(m) {
  if (m == "") return "NOASSERTION"
  sub(/</, "(", m); sub(/>/, ")", m)
  return "Organization: " m
}
function flush(   id, purl, p) {
  if (pkg != "" && status ~ / installed$/) {
    n++
    id = "SPDXRef-Package-deb-" idsafe(pkg) "-" n
    purl = "pkg:deb/" osid "/" pkg "@" pct(ver) "?arch=" arch (distro == "" ? "" : "&distro=" distro)
    p = "    {\"name\": \"" esc(pkg) "\", \"SPDXID\": \"" id "\", \"versionInfo\": \"" esc(ver) "\","
    p = p " \"supplier\": \"" esc(supplier(maint)) "\", \"downloadLocation\": \"NOASSERTION\", \"filesAnalyzed\": false,"
    if (home != "") p = p " \"homepage\": \"" esc(home) "\","
    p = p " \"licenseConcluded\": \"NOASSERTION\", \"licenseDeclared\": \"NOASSERTION\", \"copyrightText\": \"NOASSERTION\","
    p = p " \"sourceInfo\": \"acquired package info from DPKG DB: " statuspath "\","
    if (src != "") p = p " \"comment\": \"source package: " esc(src) "\","
    p = p " \"primaryPackagePurpose\": \"LIBRARY\","
    p = p " \"externalRefs\": [{\"referenceCategory\": \"PACKAGE-MANAGER\", \"referenceType\": \"purl\", \"referenceLocator\": \"" esc(purl) "\"}]}"
    pkgs[n] = p
    ids[n] = id
  }
  pkg = ver = arch = status = maint = home = src = ""
}
FNR == 1 && FILENAME == ARGV[2] {
  osid = ("ID" in osr) ? osr["ID"] : "debian"
  distro = ("VERSION_ID" in osr) ? osid "-" osr["VERSION_ID"] : (("VERSION_CODENAME" in osr) ? osid "-" osr["VERSION_CODENAME"] : "")
}
FILENAME == ARGV[1] && ARGV[1] != ARGV[2] {
  if (match($0, /^[A-Z_]+=/)) {
    k = substr($0, 1, RLENGTH - 1); v = substr($0, RLENGTH + 1); gsub(/^"|"$/, "", v)
    osr[k] = v
  }
  next
}
/^$/ { flush(); next }
/^[ \t]/ { next }
{
  k = $0; sub(/:.*/, "", k); v = $0; sub(/^[^:]*:[ \t]*/, "", v)
  if (k == "Package") pkg = v
  else if (k == "Version") ver = v
  else if (k == "Architecture") arch = v
  else if (k == "Status") status = v
  else if (k == "Maintainer") maint = v
  else if (k == "Homepage") home = v
  else if (k == "Source") { src = v; sub(/ .*/, "", src) }
}
END {
  flush()
  printf "{\n  \"_type\": \"https://in-toto.io/Statement/v0.1\",\n  \"predicateType\": \"https://spdx.dev/Document\",\n  \"subject\": [],\n  \"predicate\": {\n"
  printf "  \"spdxVersion\": \"SPDX-2.3\",\n  \"dataLicense\": \"CC0-1.0\",\n  \"SPDXID\": \"SPDXRef-DOCUMENT\",\n"
  printf "  \"name\": \"%s\",\n  \"documentNamespace\": \"%s\",\n", esc(name), esc(ns)
  printf "  \"creationInfo\": {\"created\": \"%s\", \"creators\": [\"Tool: ros-multiarch-testbed-sbom-standin-1\"],", created
  printf " \"comment\": \"stand-in for BuildKit's default SBOM generator (docker/buildkit-syft-scanner); dpkg database only; ran on %s\"},\n", esc(scanner_arch)
  printf "  \"packages\": [\n    {\"name\": \"%s\", \"SPDXID\": \"SPDXRef-RootFilesystem\", \"downloadLocation\": \"NOASSERTION\", \"filesAnalyzed\": false, \"primaryPackagePurpose\": \"CONTAINER\"", esc(name)
  if ("PRETTY_NAME" in osr) printf ", \"comment\": \"%s\"", esc(osr["PRETTY_NAME"])
  printf "}"
  for (i = 1; i <= n; i++) printf ",\n%s", pkgs[i]
  printf "\n  ],\n  \"relationships\": [\n    {\"spdxElementId\": \"SPDXRef-DOCUMENT\", \"relationshipType\": \"DESCRIBES\", \"relatedSpdxElement\": \"SPDXRef-RootFilesystem\"}"
  for (i = 1; i <= n; i++) printf ",\n    {\"spdxElementId\": \"SPDXRef-RootFilesystem\", \"relationshipType\": \"CONTAINS\", \"relatedSpdxElement\": \"%s\"}", ids[i]
  printf "\n  ]\n  }\n}\n"
}
