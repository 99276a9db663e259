; Windows installer for Peyvand (پیوند), packed from the PyInstaller folder (installer/peyvand.spec → dist\peyvand).
;
; Build (installer\build-windows.ps1 does all of it on Windows; scripts/frozen_smoke.sh compiles it on Linux):
;   makensis -DVERSION=0.1.0 -DSOURCE_DIR=..\dist\peyvand -DOUT_FILE=..\dist\peyvand-setup-0.1.0.exe installer\peyvand.nsi
; Paths are relative to this file's folder (makensis works from there). The version comes from app/__init__.py.
;
; What it does:
; - asks for the language of the installer itself: فارسی (the default) or English;
; - copies the program folder to Program Files\Peyvand: peyvand.exe (command line) and peyvandw.exe (the GUI,
;   no console window), with the Vazirmatn fonts in _internal\resources\fonts. The program loads its fonts from
;   its own folder, so nothing is added to C:\Windows\Fonts and the fonts go away with the program;
; - Start-menu shortcuts (the program, its data folder, the uninstaller) and, if chosen, one on the desktop;
; - the backup files (crm-….sqlite3, app/backup.py) open with Peyvand, which offers to restore them
;   (`peyvandw.exe gui --open-backup FILE`): Peyvand is added to the files' "Open with" list, and becomes their
;   default program only if .sqlite3 files had none;
; - an uninstaller (also in Settings → Apps) that removes the program and keeps the data folder
;   (%LOCALAPPDATA%\peyvand: the database, backups, logs) unless asked to remove it too.

Unicode true
ManifestDPIAware true
SetCompressor /SOLID lzma

!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "Sections.nsh"
!include "FileFunc.nsh"
!include "x64.nsh"

!ifndef VERSION
  !define VERSION "0.1.0"
!endif
!ifndef SOURCE_DIR
  !define SOURCE_DIR "..\dist\peyvand"
!endif
!ifndef OUT_FILE
  !define OUT_FILE "..\dist\peyvand-setup-${VERSION}.exe"
!endif
!ifndef EXE
  !define EXE "peyvand.exe"          ; the command line (console)
!endif
!ifndef GUI_EXE
  !define GUI_EXE "peyvandw.exe"     ; the GUI without a console window
!endif

!define APP_KEY "Peyvand"
!define PROG_ID "Peyvand.Backup"
!define BACKUP_EXT ".sqlite3"        ; models/snapshot.py SUFFIX
!define DATA_DIR_NAME "peyvand"      ; platformdirs.user_data_dir("peyvand", appauthor=False) → %LOCALAPPDATA%\peyvand
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APP_KEY}"
!define ICON_FILE "..\resources\icons\peyvand.ico"

; The folder must be a finished frozen build: the program and the fonts the GUI loads from its own folder.
!if ! /FileExists "${SOURCE_DIR}\${EXE}"
  !error "${SOURCE_DIR}\${EXE} is missing: build the program first (pyinstaller installer\peyvand.spec)"
!endif
!if ! /FileExists "${SOURCE_DIR}\_internal\resources\fonts\Vazirmatn-Regular.ttf"
  !error "the Vazirmatn fonts are missing from ${SOURCE_DIR}\_internal\resources\fonts"
!endif

Name "$(AppName)"
Caption "$(AppName) ${VERSION}"
OutFile "${OUT_FILE}"
InstallDir "$PROGRAMFILES64\${APP_KEY}"
InstallDirRegKey HKLM "${UNINSTALL_KEY}" "InstallLocation"
RequestExecutionLevel admin
BrandingText "$(AppName) ${VERSION}"

VIProductVersion "${VERSION}.0"
VIAddVersionKey /LANG=1033 "ProductName" "Peyvand CRM"
VIAddVersionKey /LANG=1033 "FileDescription" "Peyvand CRM installer"
VIAddVersionKey /LANG=1033 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=1033 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=1033 "LegalCopyright" "Peyvand CRM"

!define MUI_ICON "${ICON_FILE}"
!define MUI_UNICON "${ICON_FILE}"
!define MUI_ABORTWARNING
!define MUI_LANGDLL_ALLLANGUAGES
!define MUI_LANGDLL_REGISTRY_ROOT HKLM
!define MUI_LANGDLL_REGISTRY_KEY "Software\${APP_KEY}"
!define MUI_LANGDLL_REGISTRY_VALUENAME "InstallerLanguage"
!define MUI_FINISHPAGE_RUN
!define MUI_FINISHPAGE_RUN_FUNCTION RunAsTheUser
!define MUI_FINISHPAGE_RUN_TEXT "$(RunNow)"

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH

!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_COMPONENTS
!insertmacro MUI_UNPAGE_INSTFILES

; Persian first: the default, and the first in the language list.
!insertmacro MUI_LANGUAGE "Farsi"
!insertmacro MUI_LANGUAGE "English"
!insertmacro MUI_RESERVEFILE_LANGDLL

LangString AppName ${LANG_FARSI} "پیوند — مدیریت ارتباط با مشتری"
LangString AppName ${LANG_ENGLISH} "Peyvand CRM"
LangString ShortcutName ${LANG_FARSI} "پیوند"
LangString ShortcutName ${LANG_ENGLISH} "Peyvand"
LangString ShortcutComment ${LANG_FARSI} "پرونده مشتریان، نمایش شماره تماس‌گیرنده، فاکتور"
LangString ShortcutComment ${LANG_ENGLISH} "Customer records, caller ID, invoices for small offices"
LangString UninstallShortcut ${LANG_FARSI} "حذف پیوند"
LangString UninstallShortcut ${LANG_ENGLISH} "Uninstall Peyvand"
LangString RunNow ${LANG_FARSI} "اجرای پیوند"
LangString RunNow ${LANG_ENGLISH} "Start Peyvand"
LangString BackupFileType ${LANG_FARSI} "پشتیبان پیوند"
LangString BackupFileType ${LANG_ENGLISH} "Peyvand backup"
LangString SecProgram ${LANG_FARSI} "برنامه پیوند (لازم)"
LangString SecProgram ${LANG_ENGLISH} "Peyvand (required)"
LangString SecDesktop ${LANG_FARSI} "میان‌بر روی میز کار"
LangString SecDesktop ${LANG_ENGLISH} "Desktop shortcut"
LangString SecBackups ${LANG_FARSI} "باز شدن پرونده‌های پشتیبان با پیوند"
LangString SecBackups ${LANG_ENGLISH} "Open backup files with Peyvand"
LangString DescProgram ${LANG_FARSI} "برنامه، قلم وزیرمتن و میان‌برهای منوی شروع."
LangString DescProgram ${LANG_ENGLISH} "The program, the Vazirmatn font and the Start-menu shortcuts."
LangString DescDesktop ${LANG_FARSI} "میان‌بر پیوند روی میز کار همه کاربران."
LangString DescDesktop ${LANG_ENGLISH} "A Peyvand shortcut on every user's desktop."
LangString DescBackups ${LANG_FARSI} "با دوبار کلیک روی پرونده پشتیبان (crm-….sqlite3)، پیوند بازگردانی آن را پیشنهاد می‌کند."
LangString DescBackups ${LANG_ENGLISH} "Double-clicking a backup file (crm-….sqlite3) offers to restore it in Peyvand."
LangString SecUnProgram ${LANG_FARSI} "برنامه پیوند"
LangString SecUnProgram ${LANG_ENGLISH} "Peyvand program"
LangString SecUnData ${LANG_FARSI} "داده‌ها هم پاک شوند (مشتریان، تماس‌ها، پشتیبان‌ها)"
LangString SecUnData ${LANG_ENGLISH} "Also delete the data (customers, calls, backups)"
LangString DescUnProgram ${LANG_FARSI} "برنامه و میان‌برهای آن برداشته می‌شود؛ داده‌ها می‌مانند."
LangString DescUnProgram ${LANG_ENGLISH} "Removes the program and its shortcuts; the data stays."
LangString DescUnData ${LANG_FARSI} "پوشه داده (پایگاه داده، پشتیبان‌ها و گزارش‌ها) برای همیشه پاک می‌شود. تنها اگر دیگر به این اطلاعات نیاز ندارید انتخاب کنید."
LangString DescUnData ${LANG_ENGLISH} "Deletes the data folder (database, backups, logs) for good. Choose it only if you no longer need this information."
LangString ConfirmData ${LANG_FARSI} "همه داده‌های پیوند در «$LOCALAPPDATA\${DATA_DIR_NAME}» برای همیشه پاک شود؟ این کار برگشت‌پذیر نیست."
LangString ConfirmData ${LANG_ENGLISH} "Delete all Peyvand data in $LOCALAPPDATA\${DATA_DIR_NAME} for good? This cannot be undone."
LangString DataKept ${LANG_FARSI} "داده‌ها نگه داشته شد: $LOCALAPPDATA\${DATA_DIR_NAME}"
LangString DataKept ${LANG_ENGLISH} "The data was kept: $LOCALAPPDATA\${DATA_DIR_NAME}"
LangString Needs64 ${LANG_FARSI} "پیوند به ویندوز ۶۴ بیتی (ویندوز ۱۰ یا ۱۱) نیاز دارد."
LangString Needs64 ${LANG_ENGLISH} "Peyvand needs 64-bit Windows (Windows 10 or 11)."

Function .onInit
  ${IfNot} ${RunningX64}
    MessageBox MB_ICONSTOP "$(Needs64)" /SD IDOK
    Abort
  ${EndIf}
  SetRegView 64
  !insertmacro MUI_LANGDLL_DISPLAY
FunctionEnd

; The installer runs as administrator; the program should not (its data folder is the signed-in user's). Explorer
; starts it as that user. With no verb the program opens its window, as the shortcuts' "gui" does.
Function RunAsTheUser
  Exec '"$WINDIR\explorer.exe" "$INSTDIR\${GUI_EXE}"'
FunctionEnd

Section "$(SecProgram)" SecProgram
  SectionIn RO
  SetShellVarContext all
  SetOutPath "$INSTDIR"
  ; the program folder as PyInstaller made it (replacing an older version's files)
  RMDir /r "$INSTDIR\_internal"
  File /r "${SOURCE_DIR}\*.*"
  File "/oname=peyvand.ico" "${ICON_FILE}"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  CreateDirectory "$SMPROGRAMS\$(ShortcutName)"
  CreateShortcut "$SMPROGRAMS\$(ShortcutName)\$(ShortcutName).lnk" "$INSTDIR\${GUI_EXE}" "gui" \
    "$INSTDIR\peyvand.ico" 0 SW_SHOWNORMAL "" "$(ShortcutComment)"
  CreateShortcut "$SMPROGRAMS\$(ShortcutName)\$(UninstallShortcut).lnk" "$INSTDIR\uninstall.exe"

  ; Settings → Apps (Add or remove programs)
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayName" "$(AppName)"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "Publisher" "Peyvand CRM"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\peyvand.ico"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKLM "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "EstimatedSize" "$0"
SectionEnd

Section "$(SecDesktop)" SecDesktop
  SetShellVarContext all
  CreateShortcut "$DESKTOP\$(ShortcutName).lnk" "$INSTDIR\${GUI_EXE}" "gui" "$INSTDIR\peyvand.ico" 0 \
    SW_SHOWNORMAL "" "$(ShortcutComment)"
SectionEnd

Section "$(SecBackups)" SecBackups
  WriteRegStr HKLM "Software\Classes\${PROG_ID}" "" "$(BackupFileType)"
  WriteRegStr HKLM "Software\Classes\${PROG_ID}\DefaultIcon" "" "$INSTDIR\peyvand.ico,0"
  WriteRegStr HKLM "Software\Classes\${PROG_ID}\shell\open\command" "" '"$INSTDIR\${GUI_EXE}" gui --open-backup "%1"'
  WriteRegStr HKLM "Software\Classes\${BACKUP_EXT}\OpenWithProgids" "${PROG_ID}" ""
  ; .sqlite3 is SQLite's own extension: take the default only where no other program had it
  ReadRegStr $0 HKCR "${BACKUP_EXT}" ""
  ${If} $0 == ""
    WriteRegStr HKLM "Software\Classes\${BACKUP_EXT}" "" "${PROG_ID}"
  ${EndIf}
  System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)'   ; SHCNE_ASSOCCHANGED
SectionEnd

!insertmacro MUI_FUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${SecProgram} "$(DescProgram)"
  !insertmacro MUI_DESCRIPTION_TEXT ${SecDesktop} "$(DescDesktop)"
  !insertmacro MUI_DESCRIPTION_TEXT ${SecBackups} "$(DescBackups)"
!insertmacro MUI_FUNCTION_DESCRIPTION_END

; --- uninstaller ------------------------------------------------------------------------------------------------
Section "un.$(SecUnProgram)" SecUnProgram
  SectionIn RO
  SetShellVarContext all
  Delete "$DESKTOP\$(ShortcutName).lnk"
  RMDir /r "$SMPROGRAMS\$(ShortcutName)"
  ; the backup files' association, where it is still ours
  DeleteRegKey HKLM "Software\Classes\${PROG_ID}"
  DeleteRegValue HKLM "Software\Classes\${BACKUP_EXT}\OpenWithProgids" "${PROG_ID}"
  ReadRegStr $0 HKLM "Software\Classes\${BACKUP_EXT}" ""
  ${If} $0 == "${PROG_ID}"
    DeleteRegValue HKLM "Software\Classes\${BACKUP_EXT}" ""
  ${EndIf}
  DeleteRegKey /ifempty HKLM "Software\Classes\${BACKUP_EXT}\OpenWithProgids"
  DeleteRegKey /ifempty HKLM "Software\Classes\${BACKUP_EXT}"
  System::Call 'shell32::SHChangeNotify(i 0x08000000, i 0, p 0, p 0)'
  DeleteRegKey HKLM "${UNINSTALL_KEY}"
  DeleteRegKey HKLM "Software\${APP_KEY}"
  ; the program folder only: the data lives elsewhere (%LOCALAPPDATA%\peyvand) and is kept
  RMDir /r "$INSTDIR\_internal"
  Delete "$INSTDIR\${EXE}"
  Delete "$INSTDIR\${GUI_EXE}"
  Delete "$INSTDIR\peyvand.ico"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
SectionEnd

; Not selected unless the user ticks it (or runs `uninstall.exe /S /REMOVEDATA`); a tick is confirmed once more.
Section /o "un.$(SecUnData)" SecUnData
  SetShellVarContext current
  ${GetParameters} $1
  ClearErrors
  ${GetOptions} $1 "/REMOVEDATA" $2
  ${If} ${Errors}
    MessageBox MB_YESNO|MB_ICONEXCLAMATION|MB_DEFBUTTON2 "$(ConfirmData)" /SD IDNO IDYES remove
    DetailPrint "$(DataKept)"
    Goto done
  ${EndIf}
  remove:
  RMDir /r "$LOCALAPPDATA\${DATA_DIR_NAME}"
  done:
SectionEnd

Function un.onInit
  SetRegView 64
  !insertmacro MUI_UNGETLANGUAGE
  ${GetParameters} $1
  ClearErrors
  ${GetOptions} $1 "/REMOVEDATA" $2
  ${IfNot} ${Errors}
    !insertmacro SelectSection ${SecUnData}
  ${EndIf}
FunctionEnd

!insertmacro MUI_UNFUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${SecUnProgram} "$(DescUnProgram)"
  !insertmacro MUI_DESCRIPTION_TEXT ${SecUnData} "$(DescUnData)"
!insertmacro MUI_UNFUNCTION_DESCRIPTION_END
