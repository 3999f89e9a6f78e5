#pragma once
// Which folders of a mailbox are its Sent and Drafts folders (CONTRACT.md): the configured
// folders.sent / folders.drafts; when absent, the folder the server marks \Sent / \Drafts
// (RFC 6154 SPECIAL-USE: "Sent Items", "[Gmail]/Sent Mail", "Gesendete Objekte" …); else the
// plain names "Sent" / "Drafts". One place decides this for the Sent audit (MailWatcher), the
// drafts (DraftWriter) and `rapportd init`, so they always agree.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "imap_types.hpp"
#include "rapport/settings.hpp"

namespace rapport {

namespace imap {
class ImapConnection;
}

// How a folder was chosen, for logs and `rapportd init`'s report.
enum class FolderSource { configured, special_use, fallback };
const char* to_string(FolderSource s);

struct ChosenFolder {
    std::string name;  // UTF-8, as the settings and the IMAP client use it
    FolderSource source = FolderSource::fallback;
    bool exists = false;  // the server listed it as a selectable folder
};

struct SpecialFolders {
    ChosenFolder sent;
    ChosenFolder drafts;
};

// The choice for `mailbox` given the server's LIST (with or without RETURN (SPECIAL-USE): the
// attributes are read either way). Pure: no I/O.
SpecialFolders choose_special_folders(const Mailbox& mailbox, const std::vector<imap::ListEntry>& list);

// True when the mailbox's settings leave something to the server: the Sent folder is not
// configured and a watched folder might be it.
bool needs_folder_discovery(const Mailbox& mailbox);

// The folders to watch: folders.watch when configured, else INBOX and the Sent folder.
std::vector<std::string> watched_folders(const Mailbox& mailbox, const std::string& sent);

// LIST on a logged-in connection, then the choice. On an error `done` gets the error and an
// empty choice.
void discover_special_folders(const std::shared_ptr<imap::ImapConnection>& connection, const Mailbox& mailbox,
                              std::function<void(const imap::Error&, const SpecialFolders&)> done);

}  // namespace rapport
