@echo off
rem Vitrine\Serve task: headless serve with the machine-wide data directory
set "VITRINE_DATA_DIR=%ProgramData%\Vitrine\data"
set "VITRINE_PROVISION_FILE=%ProgramData%\Vitrine\provision.json"
set "QT_QPA_PLATFORM=offscreen"
"%~dp0vitrine.exe" serve
