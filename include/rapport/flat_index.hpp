#pragma once
// A string-keyed index that stores no strings: open addressing over one array of 64-bit
// values, the keys read back through the caller's key_of(value). For the directory's million
// contacts this is 16 bytes a contact at most, against ~130 for an unordered_map<string, …>
// node with its copied key.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

namespace rapport {

class FlatIndex {
public:
    // Room for n keys without growing.
    void reserve(std::size_t n) {
        std::size_t size = 16;
        while (size < 2 * n) size *= 2;
        if (count_ == 0 && size > slots_.size()) slots_.assign(size, 0);  // a hint; never rehashes
    }

    std::size_t size() const { return count_; }

    template <class KeyOf>
    std::optional<std::uint64_t> find(std::string_view key, const KeyOf& key_of) const {
        if (slots_.empty()) return std::nullopt;
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = std::hash<std::string_view>{}(key) & mask;; i = (i + 1) & mask) {
            const std::uint64_t slot = slots_[i];
            if (slot == 0) return std::nullopt;
            if (key_of(slot - 1) == key) return slot - 1;
        }
    }

    // Adds key -> value unless key is there already; then returns the value it has.
    template <class KeyOf>
    std::optional<std::uint64_t> insert(std::string_view key, std::uint64_t value, const KeyOf& key_of) {
        if (2 * (count_ + 1) > slots_.size()) grow(key_of);
        const std::size_t mask = slots_.size() - 1;
        for (std::size_t i = std::hash<std::string_view>{}(key) & mask;; i = (i + 1) & mask) {
            const std::uint64_t slot = slots_[i];
            if (slot == 0) {
                slots_[i] = value + 1;
                ++count_;
                return std::nullopt;
            }
            if (key_of(slot - 1) == key) return slot - 1;
        }
    }

private:
    template <class KeyOf>
    void grow(const KeyOf& key_of) {
        std::vector<std::uint64_t> old;
        old.swap(slots_);
        slots_.assign(old.empty() ? 16 : old.size() * 2, 0);
        const std::size_t mask = slots_.size() - 1;
        for (const std::uint64_t slot : old) {
            if (slot == 0) continue;
            std::size_t i = std::hash<std::string_view>{}(key_of(slot - 1)) & mask;
            while (slots_[i] != 0) i = (i + 1) & mask;
            slots_[i] = slot;
        }
    }

    std::vector<std::uint64_t> slots_;  // value + 1; 0 is empty
    std::size_t count_ = 0;
};

}  // namespace rapport
