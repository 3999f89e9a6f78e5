#include "app/special_folders.hpp"

#include <algorithm>
#include <cctype>

#include "imap_connection.hpp"

namespace rapport {
namespace {

bool same_attribute(const std::string& a, const char* b) {
    // Attributes are case-insensitive atoms (RFC 3501 section 9).
    const std::size_t n = std::char_traits<char>::length(b);
    return a.size() == n && std::equal(a.begin(), a.end(), b, [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

bool has_attribute(const imap::ListEntry& e, const char* attribute) {
    return std::any_of(e.attributes.begin(), e.attributes.end(),
                       [&](const std::string& a) { return same_attribute(a, attribute); });
}

bool selectable(const imap::ListEntry& e) {
    return !has_attribute(e, "\\Noselect") && !has_attribute(e, "\\NonExistent");
}

ChosenFolder choose(const std::optional<std::string>& configured, const char* attribute, const char* fallback,
                    const std::vector<imap::ListEntry>& list) {
    auto listed = [&](const std::string& name) {
        return std::any_of(list.begin(), list.end(),
                           [&](const imap::ListEntry& e) { return e.name == name && selectable(e); });
    };
    if (configured) return {*configured, FolderSource::configured, listed(*configured)};
    // The first one the server lists: a server with two \Sent folders is rare, and its own
    // clients pick the first too.
    for (const auto& e : list)
        if (has_attribute(e, attribute) && selectable(e)) return {e.name, FolderSource::special_use, true};
    return {fallback, FolderSource::fallback, listed(fallback)};
}

}  // namespace

const char* to_string(FolderSource s) {
    switch (s) {
        case FolderSource::configured: return "configured";
        case FolderSource::special_use: return "special-use";
        case FolderSource::fallback: return "default name";
    }
    return "default name";
}

SpecialFolders choose_special_folders(const Mailbox& mailbox, const std::vector<imap::ListEntry>& list) {
    return {choose(mailbox.sent, "\\Sent", "Sent", list), choose(mailbox.drafts, "\\Drafts", "Drafts", list)};
}

bool needs_folder_discovery(const Mailbox& mailbox) {
    if (mailbox.sent) return false;
    if (!mailbox.watch) return true;  // the default watch list includes the Sent folder
    // Only INBOX watched: no folder of the list can be the Sent folder.
    return std::any_of(mailbox.watch->begin(), mailbox.watch->end(), [](const std::string& f) {
        return !same_attribute(f, "INBOX");
    });
}

std::vector<std::string> watched_folders(const Mailbox& mailbox, const std::string& sent) {
    if (mailbox.watch) return *mailbox.watch;
    return {"INBOX", sent};
}

void discover_special_folders(const std::shared_ptr<imap::ImapConnection>& connection, const Mailbox& mailbox,
                              std::function<void(const imap::Error&, const SpecialFolders&)> done) {
    connection->list([mailbox, done = std::move(done)](const imap::Error& e, const std::vector<imap::ListEntry>& list) {
        if (e) return done(e, SpecialFolders{});
        done(e, choose_special_folders(mailbox, list));
    });
}

}  // namespace rapport
