#pragma once
// Where a watched folder's sync stands (mbsync-style marks) and the decisions about it that
// need no server: what opening the folder means for the stored mark, which UIDs are history,
// what a completed fetch changes.
#include <cstdint>
#include <limits>
#include <optional>

namespace rapport {

struct SyncMark {
    uint32_t uidvalidity = 0;
    uint32_t last_uid = 0;  // everything up to here is recorded
    uint64_t highestmodseq = 0;
    // UIDNEXT at the folder's first EXAMINE (for this UIDVALIDITY): messages below it were
    // there before rapportd looked and are history; anything from it on is new mail, also
    // when the first scan was interrupted by a crash, a restart or a reconnect.
    uint32_t history_below = 0;
    bool scanned = false;  // the first scan is complete
    bool operator==(const SyncMark& o) const {
        return uidvalidity == o.uidvalidity && last_uid == o.last_uid && highestmodseq == o.highestmodseq &&
               history_below == o.history_below && scanned == o.scanned;
    }
};

// A server that sends no UIDNEXT: until the first scan completes, everything is history.
constexpr uint32_t kHistoryBoundaryUnknown = std::numeric_limits<uint32_t>::max();

struct FolderOpening {
    SyncMark mark;
    // The mark differs from the stored one in a way that must be stored before fetching (a
    // new boundary): otherwise a crash during the first scan would lose it.
    bool store_first = false;
    bool uidvalidity_changed = false;
};

// What EXAMINE's answer means for the folder's mark. uidnext 0: the server did not say.
//  - a folder never seen: history is what is there now (below UIDNEXT);
//  - the same UIDVALIDITY: carry on from the stored mark;
//  - a new UIDVALIDITY (folder recreated or renumbered) after a complete scan: fetch all
//    again, nothing is history — the stored Message-IDs keep what was told from being told
//    twice, and mail that is really new is still announced;
//  - a new UIDVALIDITY before the first scan completed: as a folder never seen.
FolderOpening open_folder(const std::optional<SyncMark>& stored, uint32_t uidvalidity, uint32_t uidnext,
                          uint64_t highestmodseq);

inline bool is_history(const SyncMark& mark, uint32_t uid) { return uid < mark.history_below; }

// A fetch of everything after last_uid completed: the first scan (if it was one) is done.
SyncMark after_complete_fetch(SyncMark mark);

}  // namespace rapport
