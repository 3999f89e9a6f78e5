#include "rapport/folder_sync.hpp"

namespace rapport {

FolderOpening open_folder(const std::optional<SyncMark>& stored, uint32_t uidvalidity, uint32_t uidnext,
                          uint64_t highestmodseq) {
    FolderOpening o;
    const uint32_t boundary = uidnext != 0 ? uidnext : kHistoryBoundaryUnknown;
    if (stored && stored->uidvalidity == uidvalidity) {
        o.mark = *stored;
        o.mark.highestmodseq = highestmodseq;
        // A mark from before boundaries were stored, caught mid-scan: the best boundary left
        // is today's UIDNEXT.
        if (!o.mark.scanned && o.mark.history_below == 0) {
            o.mark.history_below = boundary;
            o.store_first = true;
        }
        return o;
    }
    o.uidvalidity_changed = stored.has_value();
    o.mark.uidvalidity = uidvalidity;
    o.mark.highestmodseq = highestmodseq;
    o.store_first = true;
    if (stored && stored->scanned) {
        o.mark.history_below = 0;
        o.mark.scanned = true;
    } else {
        o.mark.history_below = boundary;
    }
    return o;
}

SyncMark after_complete_fetch(SyncMark mark) {
    if (mark.history_below == kHistoryBoundaryUnknown) mark.history_below = mark.last_uid + 1;
    mark.scanned = true;
    return mark;
}

}  // namespace rapport
