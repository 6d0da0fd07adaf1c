// jinja_parser.h — parses chat-template source into a Program (jinja_ast.h).
//
// Grammar (the subset of Jinja that @huggingface/jinja accepts, same precedence):
//   statements: {% if %}/{% elif %}/{% else %}/{% endif %}, {% for x[, y] in e [if c] %}
//               ... [{% else %}] {% endfor %}, {% set t = e %}, {% set t %}...{% endset %},
//               {% macro m(a, b=1) %}...{% endmacro %}, {% break %}, {% continue %}
//   expression: a if c else b | or | and | not | in, not in, == != < > <= >= | + - ~ |
//               * / // % | ** | is [not] test[(args)] | e|filter[(args)] | unary - + |
//               primary with .attr, [index], [a:b:c], (call args, key=value)
//   primary:    number, 'string' (adjacent strings concatenate), name, (e[, e...]), [list],
//               {key: value}
// Anything else ({% call %}, {% filter %}, {% include %}, *args, ...) is rejected.
//
// Errors: InvalidArgument "chat template syntax error at line L, column C: ..." — never a
// crash, whatever the input. Nesting deeper than kMaxParseDepth is an error.
#pragma once

#include <memory>
#include <string_view>

#include "base/status.h"
#include "chat/jinja_ast.h"

namespace maas::jinja {

StatusOr<std::shared_ptr<const Program>> parse_program(std::string_view source);

}  // namespace maas::jinja
