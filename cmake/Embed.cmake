# Turns schema.sql into a C array: const char scr_schema_sql[] (NUL-terminated).
file(READ ${IN} _hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," _bytes "${_hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" _bytes "${_bytes}")
file(WRITE ${OUT} "/* Generated from schema.sql by cmake/Embed.cmake: do not edit. */\n"
                  "const char scr_schema_sql[] = {\n${_bytes}0x00};\n")
