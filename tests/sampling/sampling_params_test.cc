#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "bit_ttt/error.h"
#include "bit_ttt/sampler.h"

namespace bit_ttt {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// The message of the Error that validate() throws, or "" when it accepts.
std::string validation_error(const SamplingParams& params) {
  try {
    params.validate();
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

TEST(SamplingParamsTest, DefaultsAreValid) {
  EXPECT_EQ(validation_error(SamplingParams{}), "");
}

TEST(SamplingParamsTest, NegativeAndZeroTemperatureMeanGreedyAndAreValid) {
  SamplingParams params;
  params.temperature = 0.0f;
  EXPECT_EQ(validation_error(params), "");
  params.temperature = -1.0f;
  EXPECT_EQ(validation_error(params), "");
}

TEST(SamplingParamsTest, EdgeValuesAreValid) {
  SamplingParams params;
  params.top_p = 1.0f;
  params.min_p = 1.0f;
  params.top_k = 1;
  params.repeat_last_n = -1;
  params.repetition_penalty = 0.5f;  // < 1 rewards repeats; odd but well defined
  params.frequency_penalty = -2.0f;  // negative rewards repeats, as in the OpenAI API
  params.presence_penalty = 2.0f;
  EXPECT_EQ(validation_error(params), "");
  params.min_p = 0.0f;
  params.top_p = 1e-6f;
  params.repeat_last_n = 0;
  EXPECT_EQ(validation_error(params), "");
}

struct BadCase {
  const char* name;
  void (*spoil)(SamplingParams&);
  const char* field;
  const char* range;
};

TEST(SamplingParamsTest, BadValuesAreRejectedNamingFieldAndRange) {
  const BadCase cases[] = {
      {"nan temperature", [](SamplingParams& p) { p.temperature = kNaN; }, "temperature", "finite"},
      {"inf temperature", [](SamplingParams& p) { p.temperature = kInf; }, "temperature", "finite"},
      {"negative top_k", [](SamplingParams& p) { p.top_k = -1; }, "top_k", ">= 0"},
      {"zero top_p", [](SamplingParams& p) { p.top_p = 0.0f; }, "top_p", "(0, 1]"},
      {"big top_p", [](SamplingParams& p) { p.top_p = 1.5f; }, "top_p", "(0, 1]"},
      {"nan top_p", [](SamplingParams& p) { p.top_p = kNaN; }, "top_p", "(0, 1]"},
      {"negative min_p", [](SamplingParams& p) { p.min_p = -0.1f; }, "min_p", "[0, 1]"},
      {"big min_p", [](SamplingParams& p) { p.min_p = 1.01f; }, "min_p", "[0, 1]"},
      {"nan min_p", [](SamplingParams& p) { p.min_p = kNaN; }, "min_p", "[0, 1]"},
      {"zero penalty", [](SamplingParams& p) { p.repetition_penalty = 0.0f; }, "repetition_penalty",
       "> 0"},
      {"negative penalty", [](SamplingParams& p) { p.repetition_penalty = -1.0f; },
       "repetition_penalty", "> 0"},
      {"nan penalty", [](SamplingParams& p) { p.repetition_penalty = kNaN; }, "repetition_penalty",
       "> 0"},
      {"inf penalty", [](SamplingParams& p) { p.repetition_penalty = kInf; }, "repetition_penalty",
       "> 0"},
      {"repeat_last_n -2", [](SamplingParams& p) { p.repeat_last_n = -2; }, "repeat_last_n",
       ">= -1"},
      {"nan frequency_penalty", [](SamplingParams& p) { p.frequency_penalty = kNaN; },
       "frequency_penalty", "finite"},
      {"inf frequency_penalty", [](SamplingParams& p) { p.frequency_penalty = -kInf; },
       "frequency_penalty", "finite"},
      {"nan presence_penalty", [](SamplingParams& p) { p.presence_penalty = kNaN; },
       "presence_penalty", "finite"},
      {"inf presence_penalty", [](SamplingParams& p) { p.presence_penalty = kInf; },
       "presence_penalty", "finite"},
  };
  for (const BadCase& bad : cases) {
    SCOPED_TRACE(bad.name);
    SamplingParams params;
    bad.spoil(params);
    const std::string message = validation_error(params);
    EXPECT_NE(message.find(std::string("SamplingParams.") + bad.field), std::string::npos)
        << message;
    EXPECT_NE(message.find(bad.range), std::string::npos) << message;
    EXPECT_THROW(Sampler{params}, Error);
  }
}

TEST(SamplingParamsTest, SamplerKeepsItsParams) {
  SamplingParams params;
  params.top_k = 7;
  params.seed = 99;
  Sampler sampler(params);
  EXPECT_EQ(sampler.params().top_k, 7);
  EXPECT_EQ(sampler.params().seed, 99u);
  sampler.reseed(5);
  EXPECT_EQ(sampler.params().seed, 5u);
}

}  // namespace
}  // namespace bit_ttt
