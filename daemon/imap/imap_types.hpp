#pragma once
// Value types shared by the IMAP protocol core (rapport_imap_proto) and the Asio transport
// (rapport_imap): errors, parsed server responses, and the results of client operations.
// Everything here is plain data; nothing does I/O.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rapport::imap {

// What went wrong, coarse enough to decide what to do next (retry, tell the user, give up).
enum class Errc {
    none,
    protocol,          // the server sent something that is not IMAP (or breaks the grammar)
    too_large,         // a line or literal exceeded the configured limit
    rejected,          // tagged NO
    bad_command,       // tagged BAD (a bug on our side or a server quirk)
    auth_failed,       // NO to LOGIN/AUTHENTICATE
    bye,               // the server said BYE (shutdown, idle timeout, ...)
    closed,            // the connection ended while something was pending
    unsupported,       // the server lacks something we require (STARTTLS, LOGIN, ...)
    invalid_argument,  // we were asked to send something IMAP cannot carry (e.g. NUL)
    busy,              // the operation needs the connection idle (e.g. IDLE while fetching)
    wrong_state,       // e.g. fetch before a mailbox is selected
    network,           // resolve/connect/read/write failed (transport)
    tls,               // handshake or certificate verification failed (transport)
    timeout,           // connect, greeting or read timeout (transport)
};

const char* to_string(Errc code);

struct Error {
    Errc code = Errc::none;
    std::string message;  // human-readable; never contains credentials
    std::string response_code;  // e.g. "AUTHENTICATIONFAILED", "TRYCREATE", "NONEXISTENT"

    explicit operator bool() const { return code != Errc::none; }
    static Error none() { return {}; }
};

// ---- parsed responses ----------------------------------------------------------------------

// A response code: "[APPENDUID 38505 3955]" -> name "APPENDUID", args "38505 3955".
struct ResponseCode {
    std::string name;  // upper-cased
    std::string args;  // raw text after the name, may be empty
};

enum class StatusKind { ok, no, bad, preauth, bye };

// The data of a status response (tagged, or untagged OK/NO/BAD/PREAUTH/BYE).
struct StatusResponse {
    StatusKind kind = StatusKind::ok;
    std::optional<ResponseCode> code;
    std::string text;
};

// One "* n FETCH (...)" response. Only the items Rapport uses are decoded; the rest is skipped.
struct FetchData {
    std::uint32_t seq = 0;
    std::optional<std::uint32_t> uid;
    std::optional<std::vector<std::string>> flags;
    std::optional<std::uint64_t> modseq;
    std::optional<std::uint64_t> size;      // RFC822.SIZE
    std::optional<std::string> internal_date;
    // BODY[section] items, e.g. {"HEADER.FIELDS (FROM TO)", "From: ...\r\n\r\n"}.
    // A NIL body is an empty string with nil = true.
    struct Body {
        std::string section;
        std::string data;
        bool nil = false;
    };
    std::vector<Body> bodies;
};

struct ListEntry {
    std::vector<std::string> attributes;  // e.g. "\\HasNoChildren", "\\Sent"
    std::optional<char> delimiter;        // nullopt for NIL
    std::string name;                     // as sent by the server (modified UTF-7)
};

struct StatusData {
    std::string mailbox;
    std::vector<std::pair<std::string, std::uint64_t>> items;  // upper-cased names
};

// "* SEARCH 1 2 3" or "* ESEARCH (TAG "A5") UID ALL 1:3,7".
struct SearchData {
    std::vector<std::uint32_t> numbers;  // expanded (ESEARCH ALL sets are expanded too)
    std::optional<std::uint64_t> modseq;
};

struct Untagged {
    enum class Kind {
        status,      // OK / NO / BAD / PREAUTH / BYE
        capability,
        exists,
        expunge,
        recent,
        flags,
        fetch,
        list,
        status_data,  // "* STATUS"
        search,       // SEARCH or ESEARCH
        enabled,
        other,
    };
    Kind kind = Kind::other;
    std::uint32_t number = 0;        // EXISTS / EXPUNGE / RECENT
    StatusResponse status;           // Kind::status
    std::vector<std::string> words;  // CAPABILITY / ENABLED / FLAGS
    FetchData fetch;
    ListEntry list;
    StatusData status_data;
    SearchData search;
    std::string keyword;  // the response keyword, upper-cased (e.g. "VANISHED" for other)
};

struct Response {
    enum class Kind { untagged, tagged, continuation };
    Kind kind = Kind::untagged;
    std::string tag;       // tagged only
    StatusResponse status;  // tagged only
    Untagged untagged;     // untagged only
    std::string continuation_text;  // continuation only (base64 for SASL)
};

// ---- results of client operations -----------------------------------------------------------

struct MailboxInfo {  // from EXAMINE
    std::string name;
    std::uint32_t exists = 0;
    std::uint32_t uidvalidity = 0;
    std::uint32_t uidnext = 0;          // 0 when the server did not say
    std::uint64_t highest_modseq = 0;   // 0 when the server has no CONDSTORE or NOMODSEQ
    bool read_only = false;
    std::vector<std::string> flags;
};

struct MailboxStatus {  // from STATUS
    std::string name;
    std::optional<std::uint32_t> messages;
    std::optional<std::uint32_t> uidnext;
    std::optional<std::uint32_t> uidvalidity;
    std::optional<std::uint64_t> highest_modseq;
};

// One message delivered by a header fetch.
struct FetchedMessage {
    std::uint32_t uid = 0;
    std::vector<std::string> flags;
    std::optional<std::uint64_t> modseq;
    std::string header_block;  // raw bytes of BODY[HEADER.FIELDS (...)], CRLF line endings
};

struct FetchSummary {
    std::size_t requested = 0;  // UIDs found by the search in the range
    std::size_t delivered = 0;  // messages handed to on_message (each UID at most once)
    std::uint32_t highest_uid = 0;
};

struct AppendResult {
    // From [APPENDUID v uid]; both 0 when the server has no UIDPLUS.
    std::uint32_t uidvalidity = 0;
    std::uint32_t uid = 0;
};

// Something changed in the selected mailbox (seen during IDLE or as unsolicited data).
struct MailboxEvent {
    enum class Kind { exists, expunge, flags, recent, bye, alert };
    Kind kind = Kind::exists;
    std::uint32_t number = 0;  // message count (exists/recent) or sequence number (expunge)
    FetchData fetch;           // flags
    std::string text;          // bye / alert
};

}  // namespace rapport::imap
