# Builds Peyvand for Windows: a virtualenv, the frozen program (PyInstaller, installer\peyvand.spec), the smoke
# commands scripts/frozen_smoke.sh runs on Linux, and the installer (NSIS, installer\peyvand.nsi).
#
# Usage, from any folder, in PowerShell (Windows 10/11, 64-bit Python 3.11+ from python.org, NSIS 3):
#   powershell -ExecutionPolicy Bypass -File installer\build-windows.ps1
#   ... -SkipSmoke        build without running the program (the CI workflow runs the smoke commands as steps)
#   ... -SkipInstaller    only the program folder (dist\peyvand)
# The result: dist\peyvand\ (peyvand.exe, peyvandw.exe, _internal\) and dist\peyvand-setup-<version>.exe.
[CmdletBinding()]
param(
    [string]$Python = "",
    [switch]$SkipSmoke,
    [switch]$SkipInstaller
)
$ErrorActionPreference = "Stop"
Set-StrictMode -Version Latest
$root = Split-Path -Parent $PSScriptRoot
Set-Location $root
$env:PYTHONUTF8 = "1"

function Fail([string]$message) {
    Write-Error "windows build: $message"
    exit 1
}

function Invoke-Checked([string]$what, [scriptblock]$block) {
    & $block
    if ($LASTEXITCODE -ne 0) { Fail "$what failed (exit $LASTEXITCODE)" }
}

# --- a virtualenv with the program and PyInstaller -------------------------------------------------------------
$venvPython = Join-Path $root ".venv\Scripts\python.exe"
if (-not (Test-Path $venvPython)) {
    if ($Python) {
        Invoke-Checked "creating the virtualenv" { & $Python -m venv .venv }
    } elseif (Get-Command py -ErrorAction SilentlyContinue) {
        Invoke-Checked "creating the virtualenv" { & py -3.11 -m venv .venv }
    } else {
        Invoke-Checked "creating the virtualenv" { & python -m venv .venv }
    }
}
Invoke-Checked "pip" { & $venvPython -m pip install -q --upgrade pip }
Invoke-Checked "installing the program" { & $venvPython -m pip install -q -e ".[build]" }
$version = (& $venvPython -c "import app; print(app.__version__)").Trim()

# --- the frozen program ------------------------------------------------------------------------------------------
$dist = Join-Path $root "dist"
$work = Join-Path $root "build\pyinstaller"
Invoke-Checked "PyInstaller" {
    & $venvPython -m PyInstaller --noconfirm --clean --log-level WARN --distpath $dist --workpath $work installer\peyvand.spec
}
$folder = Join-Path $dist "peyvand"
foreach ($name in @("peyvand.exe", "peyvandw.exe", "_internal\resources\fonts\Vazirmatn-Regular.ttf")) {
    if (-not (Test-Path (Join-Path $folder $name))) { Fail "$name is missing from $folder" }
}

# --- smoke: the same commands as scripts/frozen_smoke.sh ----------------------------------------------------------
if (-not $SkipSmoke) {
    $exe = Join-Path $folder "peyvand.exe"
    $out = Join-Path $root "build\smoke"
    if (Test-Path $out) { Remove-Item -Recurse -Force $out }
    $data = Join-Path $out "data"
    New-Item -ItemType Directory -Force -Path $data | Out-Null
    $env:CRM_DATA_DIR = $data
    $env:QT_QPA_PLATFORM = "offscreen"

    $help = & $exe --help
    if ($LASTEXITCODE -ne 0 -or -not ($help -match "demo-data")) { Fail "--help does not list the verbs" }
    & $exe --db "$data/demo.sqlite3" demo-data --customers 30 | Out-Null
    if ($LASTEXITCODE -ne 0) { Fail "demo-data failed" }
    $decoded = & $exe callerid decode tests/callerid/captures/ncid_session.txt
    $n = @($decoded | Select-String '"number"').Count
    if ($n -lt 3) { Fail "callerid decode printed $n events" }
    $gui = Join-Path $out "gui-data"          # a first start: no database yet
    New-Item -ItemType Directory -Force -Path $gui | Out-Null
    $env:CRM_DATA_DIR = $gui
    & $exe demo-data --customers 20 | Out-Null
    if ($LASTEXITCODE -ne 0) { Fail "demo-data into the default database failed" }
    & $exe gui --quit-after 2 *> $null
    if ($LASTEXITCODE -ne 0) { Fail "the GUI did not start and quit" }
    $log = Join-Path $gui "logs\crm.log"
    if (-not (Select-String -Path $log -Pattern "main window shown" -Quiet)) { Fail "the main window was not shown" }
    $want = @(Get-ChildItem models\migrations -Filter "m????_*.py").Count
    $got = @(Select-String -Path $log -Pattern "applying migration").Count
    if ($got -lt $want) { Fail "$got of $want migrations applied on a new database" }
    Remove-Item Env:CRM_DATA_DIR
    Write-Host "frozen build: --help, demo-data, callerid decode ($n events), GUI main window, $got migrations: ok"
}

# --- the installer -----------------------------------------------------------------------------------------------
if (-not $SkipInstaller) {
    $makensis = (Get-Command makensis -ErrorAction SilentlyContinue).Source
    if (-not $makensis) {
        foreach ($dir in @(${env:ProgramFiles(x86)}, $env:ProgramFiles)) {
            if ($dir -and (Test-Path (Join-Path $dir "NSIS\makensis.exe"))) { $makensis = Join-Path $dir "NSIS\makensis.exe" }
        }
    }
    if (-not $makensis) { Fail "makensis was not found: install NSIS 3 (winget install NSIS.NSIS, or choco install nsis)" }
    $setup = Join-Path $dist "peyvand-setup-$version.exe"
    Invoke-Checked "makensis" {
        & $makensis /V2 /WX "/DVERSION=$version" "/DSOURCE_DIR=$folder" "/DOUT_FILE=$setup" installer\peyvand.nsi
    }
    if (-not (Test-Path $setup)) { Fail "$setup was not written" }
    Write-Host "installer: $setup"
}
