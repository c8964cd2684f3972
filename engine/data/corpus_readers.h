// Readers for the text corpora of TASKS.md: plain-text documents (the State of the Union
// speeches; raw WikiText), SWORD ztext Bible modules aligned by verse slot, aclImdb review
// folders and line-aligned parallel text (Multi30k). Torch-free; malformed input throws
// DataError naming the file and the position (byte, record or line).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "data/text_readers.h"

namespace maw::data {

struct Document {
  std::string name;  // file name without its folder
  std::string text;
};

// One text file: must exist, be non-empty and hold no NUL byte.
std::string read_text_file(const std::string& path);
// Every regular file in `dir` whose name ends with `suffix`, sorted by name.
std::vector<Document> read_text_dir(const std::string& dir, const std::string& suffix = ".txt");

// A SWORD ztext module (`ot.bzs/.bzv/.bzz`, `nt.…`; either testament may be absent) as one
// string per verse slot, Old Testament first; slots without text (headings) are "".
// .bzs: 12-byte little-endian records (offset, compressed size, size) of zlib blocks in
// .bzz; .bzv: 10-byte records (block u32, offset u32, length u16) per slot.
std::vector<std::string> read_sword_ztext(const std::string& module_dir);
// Drops <note …>…</note> with its content, then every other tag; decodes the common
// entities and collapses whitespace.
std::string strip_osis_markup(const std::string& text);
// Slot i of `a` with slot i of `b` (both in the same versification), markup stripped;
// pairs where either side is empty are dropped.
std::vector<std::pair<std::string, std::string>> align_verses(const std::vector<std::string>& a,
                                                              const std::vector<std::string>& b);

// aclImdb/<split>/{pos,neg}/*.txt → texts labelled 1 (pos) and 0 (neg), sorted by file.
std::vector<LabeledText> read_aclimdb(const std::string& root, const std::string& split);

// Two files with one sentence per line, line i ↔ line i (Multi30k train.de / train.en).
std::vector<std::pair<std::string, std::string>> read_parallel_text(const std::string& source,
                                                                    const std::string& target);

}  // namespace maw::data
