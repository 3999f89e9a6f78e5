// The choice of the Sent and Drafts folders (app/special_folders.hpp) from a server's LIST,
// and how `rapportd init` splits --password-command into argv.
#include <catch2/catch.hpp>

#include "app/first_run.hpp"
#include "app/special_folders.hpp"
#include "app/special_folders.hpp"

using namespace rapport;

namespace {

imap::ListEntry entry(const std::string& name, std::vector<std::string> attributes = {}) {
    return {std::move(attributes), '/', name};
}

}  // namespace

TEST_CASE("SPECIAL-USE attributes choose the folders when the settings name none", "[special-use]") {
    const std::vector<imap::ListEntry> list = {entry("INBOX"), entry("Sent"), entry("Sent Items", {"\\HasNoChildren", "\\SENT"}),
                                               entry("Brouillons", {"\\Drafts"}), entry("Drafts")};
    Mailbox m;
    auto f = choose_special_folders(m, list);
    CHECK(f.sent.name == "Sent Items");
    CHECK(f.sent.source == FolderSource::special_use);
    CHECK(f.drafts.name == "Brouillons");
    CHECK(f.drafts.exists);

    m.sent = "Sent";  // the settings win
    f = choose_special_folders(m, list);
    CHECK(f.sent.name == "Sent");
    CHECK(f.sent.source == FolderSource::configured);
    CHECK(f.sent.exists);
}

TEST_CASE("without attributes the plain names are used; \\Noselect folders never are", "[special-use]") {
    Mailbox m;
    auto f = choose_special_folders(m, {entry("INBOX"), entry("Sent"), entry("[Gmail]", {"\\Noselect", "\\Sent"})});
    CHECK(f.sent.name == "Sent");
    CHECK(f.sent.source == FolderSource::fallback);
    CHECK(f.sent.exists);
    CHECK(f.drafts.name == "Drafts");
    CHECK_FALSE(f.drafts.exists);  // created when the first draft is written
    m.drafts = "Entwürfe";
    CHECK_FALSE(choose_special_folders(m, {entry("INBOX")}).drafts.exists);
}

TEST_CASE("discovery is needed only when a watched folder might be the unconfigured Sent", "[special-use]") {
    Mailbox m;
    CHECK(needs_folder_discovery(m));
    CHECK(watched_folders(m, "Sent Items") == std::vector<std::string>{"INBOX", "Sent Items"});
    m.watch = std::vector<std::string>{"INBOX"};
    CHECK_FALSE(needs_folder_discovery(m));
    m.watch = std::vector<std::string>{"INBOX", "Archive"};
    CHECK(needs_folder_discovery(m));
    CHECK(watched_folders(m, "Sent Items") == std::vector<std::string>{"INBOX", "Archive"});
    m.sent = "Sent";
    CHECK_FALSE(needs_folder_discovery(m));
}

TEST_CASE("--password-command is split into words without a shell", "[init]") {
    std::string error;
    CHECK(split_command_line("pass show mail/work", error) == std::vector<std::string>{"pass", "show", "mail/work"});
    CHECK(split_command_line("  secret-tool lookup  'my account' \"x y\"z ", error) ==
          std::vector<std::string>{"secret-tool", "lookup", "my account", "x yz"});
    CHECK(error.empty());
    CHECK(split_command_line("''", error) == std::vector<std::string>{""});
    CHECK(split_command_line("a 'b", error).empty());
    CHECK(error == "unterminated ' quote");
}
