// The official OpenAI Node SDK against a running tandem serve:
//   node check.mjs BASE_URL MODEL [API_KEY]
// A completion, a chat completion and a streamed chat completion (greedy, so the streamed and
// whole answers must agree), the model list, a structured output through the SDK's zod helper
// (zodResponseFormat + chat.completions.parse), and an error the SDK must surface as a 400.
// Exits non-zero on any failure.
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';

const [baseURL, model, apiKey] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: apiKey || 'no-key', maxRetries: 0, timeout: 60_000 });

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

const models = await client.models.list();
check(models.data.some((m) => m.id === model), `model ${model} listed`);

const completion = await client.completions.create({ model, prompt: 'Once upon a time', max_tokens: 20, temperature: 0 });
check(completion.object === 'text_completion', 'completion object');
check(completion.choices[0].text.length > 0, 'completion text');
check(['stop', 'length'].includes(completion.choices[0].finish_reason), 'completion finish_reason');
check(completion.usage.prompt_tokens > 0 && completion.usage.completion_tokens > 0, 'completion usage');

const messages = [
  { role: 'system', content: 'You tell short stories.' },
  { role: 'user', content: 'Tell me about a little dog.' },
];
const chat = await client.chat.completions.create({ model, messages, max_tokens: 24, temperature: 0 });
check(chat.object === 'chat.completion', 'chat object');
check(chat.choices[0].message.role === 'assistant', 'chat role');
check(chat.choices[0].message.content.length > 0, 'chat content');
check(chat.usage.total_tokens === chat.usage.prompt_tokens + chat.usage.completion_tokens, 'chat usage');

const stream = await client.chat.completions.create({
  model, messages, max_tokens: 24, temperature: 0, stream: true, stream_options: { include_usage: true },
});
let streamed = '';
let finish = null;
let usage = null;
let chunks = 0;
for await (const chunk of stream) {
  chunks += 1;
  check(chunk.object === 'chat.completion.chunk', 'chunk object');
  if (chunk.usage) usage = chunk.usage;
  for (const choice of chunk.choices) {
    streamed += choice.delta.content ?? '';
    if (choice.finish_reason) finish = choice.finish_reason;
  }
}
check(chunks > 2, 'several chunks');
check(streamed === chat.choices[0].message.content, `streamed text equals the whole answer: ${JSON.stringify(streamed)}`);
check(finish === chat.choices[0].finish_reason, 'streamed finish_reason');
check(usage && usage.completion_tokens === chat.usage.completion_tokens, 'streamed usage');

// Structured output: the SDK sends the zod schema as response_format json_schema (strict) and
// parses the answer; bounded fields so that the answer ends well within max_tokens.
const Pet = z.object({
  name: z.string().max(12),
  age: z.number().int().min(0).max(30),
  kind: z.enum(['dog', 'cat', 'bird']),
});
const structured = await client.chat.completions.parse({
  model,
  messages: [{ role: 'user', content: 'A pet.' }],
  max_tokens: 50,
  temperature: 0,
  response_format: zodResponseFormat(Pet, 'pet'),
});
const pet = structured.choices[0].message.parsed;
check(structured.choices[0].finish_reason === 'stop', `structured finish_reason ${structured.choices[0].finish_reason}`);
check(pet !== null && typeof pet === 'object', `parsed is an object: ${structured.choices[0].message.content}`);
check(typeof pet.name === 'string' && pet.name.length <= 12, 'parsed name');
check(Number.isInteger(pet.age) && pet.age >= 0 && pet.age <= 30, 'parsed age');
check(['dog', 'cat', 'bird'].includes(pet.kind), 'parsed kind');
// zod rebuilds the object in its shape's order; the text itself must list the properties in the
// schema's order too, as OpenAI's structured outputs do.
const text = structured.choices[0].message.content;
check(text.startsWith('{"name":'), `properties in schema order: ${text}`);

let status = 0;
try {
  await client.completions.create({ model, prompt: 'x', max_tokens: 1_000_000 });
} catch (e) {
  status = e.status;
  check(e instanceof OpenAI.BadRequestError, 'a 400 surfaces as BadRequestError');
}
check(status === 400, 'max_tokens beyond the context is a 400');

console.log(JSON.stringify({
  ok: true, completion: completion.choices[0].text, chat: chat.choices[0].message.content, chunks, pet,
}));
