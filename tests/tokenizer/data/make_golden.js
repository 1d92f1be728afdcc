// Regenerates hf_golden.json with the reference implementation, Hugging Face
// tokenizers 0.23.2 from npm. Run outside the repository:
//   mkdir /tmp/hf && cd /tmp/hf && npm install tokenizers@0.23.2
//   NODE_PATH=/tmp/hf/node_modules node make_golden.js ../shared/data BYTE_LEVEL_JSON > hf_golden.json
// BYTE_LEVEL_JSON is bit_ttt::byte_level_tokenizer_json({"<|endoftext|>",
// "<|pad|>", "<|im_start|>"}) saved to a file (checks HF loads our generator's output).
//
// Each suite takes a shared tokenizer.json, replaces some top-level fields
// ("patch"; "model" is merged field by field; "added_tokens_extra" is
// appended) and records HF's ids and decodes for a list of texts. A case
// omits ids_with_special when equal to ids, decoded when equal to the text,
// and decoded_with_special_skipped (decode(ids_with_special, true)) when equal
// to decoded.
'use strict';
const fs = require('fs');
const path = require('path');
const { Tokenizer } = require('tokenizers');

const shared = process.argv[2];
const byteLevelJson = process.argv[3];

const COMMON = [
  '', ' ', '  ', 'Hello world', ' Hello world', 'Hello  world ', 'a\tb\n\nc\r\nd',
  "I'M here, you'RE there, we'Ve gone, she'LL see, it'S, 'd 'D", "don't DON'T Don'T",
  '1234567 12 345 3.14159 ３４５６', 'x²+y²=z² ½ ⅔ Ⅻ',
  '日本語のテキスト、カタカナとひらがな。', '吾輩は猫である。名前はまだ無い。',
  '🚀 emoji 😶‍🌫️ family 👨‍👩‍👧 flag 🇯🇵', 'Café naïve coöperate e\u0301',
  'нещо на Български', 'Cửa Việt', 'a    b', '   leading', 'trailing   ', '\n', '\n\n\n',
  '  \n  x', 'line1\nline2\r\nline3\rline4', 'x\u00a0\u00a0y', 'a\u0085b', 'a\u0085\u0085b',
  'a \u0085 b', '\u3000全角\u3000スペース', '\u2028sep\u2029', 'tab\t\tand  spaces',
  'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', '!!!!!!!!!!!!???...', '<html><body>x</body></html>',
  'def f(x):\n    return x ** 2  # comment\n', 'https://example.com/path?q=1&r=two#frag',
  'Once upon a time, there was a little girl named Lily.',
];

const SPECIAL_TEXTS = {
  gpt2: ['<|endoftext|>', 'Hello<|endoftext|>world', ' <|endoftext|> x', '<|endoftext|><|endoftext|>'],
  llama3: [
    '<|begin_of_text|>Hello', '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>',
    'x<|eot_id|> y', '<|end_of_text|>', '<|reserved_special_token_5|>a', '<|begin_of_text',
  ],
  tinyllama: ['<s>Hello', 'Hello</s> world', ' <s> x', '<unk>', '<s><s>', 'a<s>b'],
  byte_level: ['<|endoftext|>', 'Hi<|pad|><|im_start|>there', '<|im_start'],
};

function readText(rel, n) {
  return fs.readFileSync(path.join(shared, rel), 'utf8').slice(0, n);
}

// Variants of a base tokenizer use fewer texts to keep the golden file small.
const SHORT = [
  '', ' ', 'Hello  world ', "I'M here, you'RE there", '1234567 ３４５', '日本語のテキスト。',
  '🚀 😶‍🌫️', 'Café e\u0301', '  \n  x', 'a\u0085\u0085b', 'x\u00a0\u00a0y', 'tab\t\tand  spaces ',
];

const LONG = [readText('ja/ai.ja.txt', 400), readText('tinystories/valid.txt', 600)];

function loadBase(base) {
  if (base === '@byte_level') return JSON.parse(fs.readFileSync(byteLevelJson, 'utf8'));
  return JSON.parse(fs.readFileSync(path.join(shared, base), 'utf8'));
}

function applyPatch(j, patch) {
  for (const [key, value] of Object.entries(patch)) {
    if (key === 'model') Object.assign(j.model, value);
    else if (key === 'added_tokens_extra') j.added_tokens = j.added_tokens.concat(value);
    else j[key] = value;
  }
  return j;
}

const byteLevelNoRegex = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false };
const splitSeq = (pattern, behavior, invert) => ({
  type: 'Sequence',
  pretokenizers: [{ type: 'Split', pattern, behavior, invert }, byteLevelNoRegex],
});
const metaspace = (scheme, split) => ({ type: 'Metaspace', replacement: '▁', prepend_scheme: scheme, split });
const tinyllamaDecoder = (strip) => ({
  type: 'Sequence',
  decoders: [
    { type: 'Replace', pattern: { String: '▁' }, content: ' ' },
    { type: 'ByteFallback' }, { type: 'Fuse' },
    { type: 'Strip', content: ' ', start: strip[0], stop: strip[1] },
  ],
});

const SUITES = [
  { name: 'gpt2', base: 'tokenizers/gpt2/tokenizer.json', special: 'gpt2', patch: {}, full: true },
  { name: 'llama3', base: 'tokenizers/llama3/tokenizer.json', special: 'llama3', patch: {}, full: true },
  { name: 'tinyllama', base: 'tokenizers/tinyllama/tokenizer.json', special: 'tinyllama', patch: {}, full: true },
  { name: 'byte_level_generated', base: '@byte_level', special: 'byte_level', patch: {}, full: true },
  {
    name: 'gpt2_add_prefix_space', base: 'tokenizers/gpt2/tokenizer.json', special: 'gpt2',
    patch: { pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true } },
  },
  {
    name: 'gpt2_added_token_flags', base: 'tokenizers/gpt2/tokenizer.json', special: 'gpt2',
    patch: {
      added_tokens_extra: [
        { id: 50257, content: '<mask>', single_word: false, lstrip: true, rstrip: false, normalized: false, special: true },
        { id: 50258, content: '[SEP]', single_word: false, lstrip: false, rstrip: true, normalized: false, special: true },
        { id: 50259, content: 'cat', single_word: true, lstrip: false, rstrip: false, normalized: true, special: false },
        { id: 50260, content: 'ab', single_word: false, lstrip: false, rstrip: false, normalized: true, special: false },
        { id: 50261, content: 'abc', single_word: false, lstrip: false, rstrip: false, normalized: true, special: false },
        { id: 50262, content: ' x y', single_word: false, lstrip: false, rstrip: false, normalized: false, special: false },
        { id: 50263, content: '\n', single_word: false, lstrip: true, rstrip: true, normalized: false, special: true },
        { id: 50264, content: '\t', single_word: false, lstrip: false, rstrip: true, normalized: false, special: true },
        { id: 50265, content: '<mask>', single_word: false, lstrip: false, rstrip: true, normalized: false, special: true },
      ],
    },
    texts: [
      'a  <mask> b', '<mask>x', 'x [SEP]   y', '[SEP]', 'cat concat cats cat. (cat) écat cat_x', 'abcd ab abab abc',
      'q x y z', 'one \n two\n\n\nthree', '  \n  ', 'x<mask>  [SEP]  <mask>', 'a\t\t\tb', 'a\t \t b\t',
    ],
  },
  {
    name: 'tinyllama_added_normalized', base: 'tokenizers/tinyllama/tokenizer.json', special: 'tinyllama',
    patch: {
      added_tokens_extra: [
        { id: 32000, content: 'hello world', single_word: false, lstrip: false, rstrip: false, normalized: true, special: false },
        { id: 32001, content: '<|user|>', single_word: false, lstrip: false, rstrip: true, normalized: false, special: true },
      ],
    },
    texts: ['hello world', 'say hello world', '<|user|> hi hello world', 'hello  world', 'x hello worldy'],
  },
];

for (const behavior of ['Isolated', 'Removed', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous']) {
  for (const invert of [false, true]) {
    SUITES.push({
      name: `split_regex_${behavior}_${invert ? 'invert' : 'plain'}`,
      base: 'tokenizers/gpt2/tokenizer.json', special: 'gpt2',
      patch: { pre_tokenizer: splitSeq({ Regex: '[,.!?]+|\\p{N}' }, behavior, invert) },
      texts: ['a,b..c!? d', '1,2,,3', '..x', 'x..', 'no delimiters', 'a1b22c333', ',,,'],
    });
    SUITES.push({
      name: `split_string_${behavior}_${invert ? 'invert' : 'plain'}`,
      base: 'tokenizers/gpt2/tokenizer.json', special: 'gpt2',
      patch: { pre_tokenizer: splitSeq({ String: ' ' }, behavior, invert) },
      texts: ['a b  c   d', ' lead', 'trail ', '  ', 'x'],
    });
  }
}

for (const scheme of ['always', 'first', 'never']) {
  for (const split of [true, false]) {
    SUITES.push({
      name: `metaspace_${scheme}_${split ? 'split' : 'nosplit'}`,
      base: 'tokenizers/tinyllama/tokenizer.json', special: 'tinyllama',
      patch: {
        normalizer: null,
        pre_tokenizer: metaspace(scheme, split),
        decoder: { type: 'Sequence', decoders: [metaspace(scheme, split), { type: 'ByteFallback' }, { type: 'Fuse' }] },
      },
      texts: ['▁already', 'a ▁ b', '  two leading'],
    });
  }
}

SUITES.push(
  {
    name: 'metaspace_decoder_only', base: 'tokenizers/tinyllama/tokenizer.json', special: 'tinyllama',
    patch: { decoder: metaspace('always', true) }, texts: [],
  },
  {
    name: 'tinyllama_strip_both', base: 'tokenizers/tinyllama/tokenizer.json', special: 'tinyllama',
    // HF's Strip panics when a decoded text is all strip characters: own texts only.
    patch: { decoder: tinyllamaDecoder([2, 2]) }, only_own_texts: true,
    texts: ['x  ', 'a b  ', '  a  ', ' x y ', 'Hello world', '  \n  x  '],
  },
  {
    name: 'tinyllama_no_byte_fallback_fuse_unk', base: 'tokenizers/tinyllama/tokenizer.json', special: 'tinyllama',
    patch: { model: { byte_fallback: false, fuse_unk: true } }, texts: ['🚀🚀 x 🚀', '한국어 텍스트'],
  },
  {
    name: 'tinyllama_no_byte_fallback_no_fuse', base: 'tokenizers/tinyllama/tokenizer.json', special: 'tinyllama',
    patch: { model: { byte_fallback: false, fuse_unk: false } }, texts: ['🚀🚀 x 🚀', '한국어 텍스트'],
  },
  {
    name: 'tinyllama_replace_regex_strip_normalizer', base: 'tokenizers/tinyllama/tokenizer.json', special: 'tinyllama',
    patch: {
      normalizer: {
        type: 'Sequence',
        normalizers: [
          { type: 'Strip', strip_left: true, strip_right: true },
          { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' },
          { type: 'Prepend', prepend: '▁' },
          { type: 'Replace', pattern: { String: ' ' }, content: '▁' },
        ],
      },
    },
    texts: ['  a \t\n b  ', '\u3000x\u3000'],
  },
  {
    name: 'gpt2_no_decoder', base: 'tokenizers/gpt2/tokenizer.json', special: 'gpt2',
    patch: { decoder: null }, texts: [],
  },
  {
    name: 'gpt2_whitespace_digits', base: 'tokenizers/gpt2/tokenizer.json', special: 'gpt2',
    patch: {
      pre_tokenizer: {
        type: 'Sequence',
        pretokenizers: [{ type: 'Whitespace' }, { type: 'Digits', individual_digits: true }, byteLevelNoRegex],
      },
    },
    texts: ['hello, world! 123 abc_def x-y', 'mañana ٣٤ e\u0301'],
  },
  {
    name: 'gpt2_whitespace_split_digits_contiguous', base: 'tokenizers/gpt2/tokenizer.json', special: 'gpt2',
    patch: {
      pre_tokenizer: {
        type: 'Sequence',
        pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Digits', individual_digits: false }, byteLevelNoRegex],
      },
    },
    texts: ['hello, world! 123 abc456def', '\u00a0x\u2003y'],
  },
  {
    name: 'gpt2_template_processing', base: 'tokenizers/gpt2/tokenizer.json', special: 'gpt2',
    patch: {
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '<|endoftext|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
          { SpecialToken: { id: 'END', type_id: 0 } }],
        pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
        special_tokens: {
          '<|endoftext|>': { id: '<|endoftext|>', ids: [50256], tokens: ['<|endoftext|>'] },
          END: { id: 'END', ids: [198, 198], tokens: ['Ċ', 'Ċ'] },
        },
      },
    },
    texts: [],
  },
  {
    name: 'gpt2_roberta_processing', base: 'tokenizers/gpt2/tokenizer.json', special: 'gpt2',
    patch: {
      post_processor: {
        type: 'Sequence',
        processors: [
          { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
          { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: false },
        ],
      },
    },
    texts: [],
  },
);

async function runSuite(suite) {
  const json = applyPatch(loadBase(suite.base), suite.patch);
  const tokenizer = Tokenizer.fromString(JSON.stringify(json));
  const own = suite.texts || [];
  const special = SPECIAL_TEXTS[suite.special] || [];
  let texts;
  if (suite.only_own_texts) texts = own;
  else if (suite.full) texts = COMMON.concat(special, LONG, own);
  else texts = SHORT.concat(special, own);
  const cases = [];
  for (const text of texts) {
    const plain = await tokenizer.encode(text, null, { addSpecialTokens: false });
    const special = await tokenizer.encode(text, null, { addSpecialTokens: true });
    const ids = plain.getIds();
    const idsWithSpecial = special.getIds();
    // Decodes are stored only where they differ from the text / plain decode.
    const decoded = await tokenizer.decode(ids, false);
    const skipped = await tokenizer.decode(idsWithSpecial, true);
    const c = { text, ids };
    if (idsWithSpecial.join() !== ids.join()) c.ids_with_special = idsWithSpecial;
    if (decoded !== text) c.decoded = decoded;
    if (skipped !== decoded) c.decoded_with_special_skipped = skipped;
    cases.push(c);
  }
  return { name: suite.name, base: suite.base, patch: suite.patch, cases };
}

(async () => {
  const suites = [];
  for (const suite of SUITES) suites.push(await runSuite(suite));
  const out = { generator: 'HF tokenizers 0.23.2 (npm), tests/tokenizer/data/make_golden.js', suites };
  process.stdout.write(JSON.stringify(out) + '\n');
})();
