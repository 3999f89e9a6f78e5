#pragma once
// `rapportd init` (CONTRACT.md): the first run. Connects to the IMAP server with the given
// address and login, finds the Sent and Drafts folders (app/special_folders.hpp), writes a
// starter settings file (mode 0600, never over an existing file), checks it as --check-config
// does, and prints the next steps. A failure is one line on stderr and a non-zero exit:
//   1  the server cannot be reached, refused the login, or the file exists / cannot be written
//   2  a wrong command line
//
// The file is plain JSON; explanations go into "$comment" keys, which the settings parser
// accepts in every object (docs/install.md).
#include <string>
#include <vector>

namespace rapport {

// args: what follows "init" on the command line.
int run_init(const std::vector<std::string>& args);

// "pass show mail/work" -> {"pass", "show", "mail/work"}; single and double quotes group
// words ("a 'b c'" -> {"a", "b c"}). nullopt-like empty result with `error` set on an
// unterminated quote. No shell is involved: the words become password_command's argv.
std::vector<std::string> split_command_line(const std::string& line, std::string& error);

}  // namespace rapport
