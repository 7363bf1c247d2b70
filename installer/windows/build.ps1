# Build Vitrine for Windows x86-64 (run it on Windows with Python 3.11 and the WiX
# Toolset v5 `wix` command; it cannot be built on Linux):
#
#   powershell -ExecutionPolicy Bypass -File installer\windows\build.ps1
#       -> dist\Vitrine-VERSION-x64.msi
#
# Same steps as installer/build.sh: a build venv from the app lock + the build lock
# (hashes checked; $env:VITRINE_WHEELS = a wheel folder for an offline build), the models
# SHA-256 checked, the synthetic sample clip, PyInstaller with installer/vitrine.spec, then
# the MSI of vitrine.wxs. $env:VITRINE_SIGN_CERT (a certificate thumbprint) signs the
# program and the MSI with signtool.
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..\..")
$root = (Get-Location).Path
$venv = if ($env:VITRINE_BUILD_VENV) { $env:VITRINE_BUILD_VENV } else { ".venv-build" }
$py = Join-Path $venv "Scripts\python.exe"
$build = Join-Path $root "build\installer-win"

if (-not (Test-Path $py)) {
    python -m venv $venv
    $opts = @("-q", "--require-hashes", "--no-deps")
    if ($env:VITRINE_WHEELS) { $opts += @("--no-index", "--find-links", $env:VITRINE_WHEELS) }
    & $py -m pip install @opts -r requirements\app.txt
    if ($LASTEXITCODE) { throw "pip install (app lock) failed" }
    & $py -m pip install @opts -r requirements\build.txt
    if ($LASTEXITCODE) { throw "pip install (build lock) failed" }
    & $py -m pip check
    if ($LASTEXITCODE) { throw "pip check failed" }
}
$version = if ($env:VITRINE_PKG_VERSION) { $env:VITRINE_PKG_VERSION } else {
    & $py -c "import tomllib;print(tomllib.load(open('pyproject.toml','rb'))['project']['version'])"
}
if (Test-Path $build) { Remove-Item -Recurse -Force $build }
New-Item -ItemType Directory -Force -Path "$build\bundle\models", "$build\bundle\samples", "dist" | Out-Null

$env:PYTHONPATH = $root
& $py installer\stage_assets.py --models-out "$build\bundle\models" --sample-out "$build\bundle\samples\sample.avi"
if ($LASTEXITCODE) { throw "staging the models and the sample failed" }
$env:VITRINE_BUNDLE_EXTRA = "$build\bundle"
& $py -m PyInstaller --noconfirm --distpath "$build\dist" --workpath "$build\work" installer\vitrine.spec
if ($LASTEXITCODE) { throw "PyInstaller failed" }
$app = "$build\dist\vitrine"
Copy-Item installer\windows\serve-task.xml, installer\windows\vitrine-serve.cmd -Destination $build

if ($env:VITRINE_SIGN_CERT) {
    signtool sign /sha1 $env:VITRINE_SIGN_CERT /fd SHA256 /tr http://timestamp.digicert.com /td SHA256 "$app\vitrine.exe"
}
$msi = "dist\Vitrine-$version-x64.msi"
wix build installer\windows\vitrine.wxs -arch x64 -d "Version=$version" -bindpath "App=$app" -b $build -o $msi
if ($LASTEXITCODE) { throw "wix build failed" }
if ($env:VITRINE_SIGN_CERT) {
    signtool sign /sha1 $env:VITRINE_SIGN_CERT /fd SHA256 /tr http://timestamp.digicert.com /td SHA256 $msi
}
Write-Host "built $msi"
