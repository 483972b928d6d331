# embed_text.cmake — writes a C++ source defining `const std::string& FUNCTION()`
# in namespace NAMESPACE that returns the bytes of INPUT, as a raw string.
# Run at build time (cmake -P) so the file in config/ stays the one source.
#   cmake -DINPUT=... -DOUTPUT=... -DFUNCTION=... -DNAMESPACE=... -DHEADER=... -P embed_text.cmake
file(READ "${INPUT}" text)
string(FIND "${text}" ")MMCFS_EMBED\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter )MMCFS_EMBED\"")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// GENERATED at build time from ${INPUT} by cmake/embed_text.cmake. Do not edit.\n"
  "#include \"${HEADER}\"\n\n"
  "namespace ${NAMESPACE} {\n\n"
  "const std::string& ${FUNCTION}() {\n"
  "  static const std::string kText = R\"MMCFS_EMBED(${text})MMCFS_EMBED\";\n"
  "  return kText;\n"
  "}\n\n"
  "}  // namespace ${NAMESPACE}\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
