# chat_template.cmake — the chat-template renderer (a sandboxed Jinja subset) and its tests.
# Included by src/tokenizer/CMakeLists.txt after it creates maas_tokenizer.
target_sources(maas_tokenizer PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/chat_template.cc
  ${CMAKE_CURRENT_LIST_DIR}/chat_template_builtin.cc
  ${CMAKE_CURRENT_LIST_DIR}/jinja_value.cc
  ${CMAKE_CURRENT_LIST_DIR}/jinja_lexer.cc
  ${CMAKE_CURRENT_LIST_DIR}/jinja_parser.cc
  ${CMAKE_CURRENT_LIST_DIR}/jinja_parser_expr.cc
  ${CMAKE_CURRENT_LIST_DIR}/jinja_eval.cc
  ${CMAKE_CURRENT_LIST_DIR}/jinja_ops.cc
  ${CMAKE_CURRENT_LIST_DIR}/jinja_filters.cc)

maas_test(chat_template_test
  ${CMAKE_CURRENT_LIST_DIR}/chat_template_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/chat_template_reference_test.cc
  ${CMAKE_CURRENT_LIST_DIR}/chat_template_hostile_test.cc)
target_link_libraries(chat_template_test PRIVATE maas_tokenizer maas_gguf nlohmann_json::nlohmann_json)
