// The session state as stored: the hand-written encoder writes what the
// JSON library writes, byte for byte, and reads back to the same state.
#include "service/session_codec.hpp"

#include <gtest/gtest.h>

using gw::service::decode_state;
using gw::service::encode_state;
using gw::service::encode_state_with_library;
using gw::service::stored_state;

namespace {
stored_state sample() {
    stored_state st;
    st.engine.language = "ky";
    st.engine.screen = "legal_aid";
    st.engine.page = 2;
    st.engine.history = {{"language", 0}, {"main", 1}};
    st.engine.trail = {"language", "main", "legal_aid"};
    st.engine.vars = {{"oblast", "osh"}, {"details", "Мен \"Ош\" шаарында\nжашайм\\"}};
    st.fields = {{"last_text", "1*2*3"},
                 {"last_reply", "Укуктук жардам\n1 Ооба\t2 Жок"},
                 {"control", std::string("a\x01\x1f\x7f", 4) + "\b\f\r"}};
    return st;
}
}  // namespace

TEST(SessionCodec, HandWrittenEncoderWritesWhatTheLibraryWrites) {
    stored_state st = sample();
    EXPECT_EQ(encode_state(st), encode_state_with_library(st));
    stored_state empty;
    EXPECT_EQ(encode_state(empty), encode_state_with_library(empty));
    st.engine.finished = true;
    st.engine.page = -1;
    EXPECT_EQ(encode_state(st), encode_state_with_library(st));
}

TEST(SessionCodec, WhatIsWrittenReadsBackTheSame) {
    stored_state st = sample();
    stored_state back = decode_state(encode_state(st));
    EXPECT_EQ(back.engine.language, st.engine.language);
    EXPECT_EQ(back.engine.screen, st.engine.screen);
    EXPECT_EQ(back.engine.page, st.engine.page);
    EXPECT_EQ(back.engine.history, st.engine.history);
    EXPECT_EQ(back.engine.trail, st.engine.trail);
    EXPECT_EQ(back.engine.vars, st.engine.vars);
    EXPECT_EQ(back.fields, st.fields);
}

TEST(SessionCodec, InvalidUtf8FromAnAggregatorIsReplacedNotRefused) {
    stored_state st = sample();
    st.fields["last_text"] = "1*\xff\xfe*2";
    std::string text = encode_state(st);
    EXPECT_EQ(text, encode_state_with_library(st));
    EXPECT_EQ(decode_state(text).fields["last_text"], "1*\xEF\xBF\xBD\xEF\xBF\xBD*2");
}
