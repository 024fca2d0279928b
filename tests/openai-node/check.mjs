// The official OpenAI Node SDK against a running tandem serve:
//   node check.mjs BASE_URL MODEL [API_KEY]
// A completion, a chat completion and a streamed chat completion (greedy, so the streamed and
// whole answers must agree), the model list, and an error the SDK must surface as a 400.
// Exits non-zero on any failure.
import OpenAI from 'openai';

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

let status = 0;
try {
  await client.completions.create({ model, prompt: 'x', max_tokens: 1_000_000 });
} catch (e) {
  status = e.status;
  check(e instanceof OpenAI.BadRequestError, 'a 400 surfaces as BadRequestError');
}
check(status === 400, 'max_tokens beyond the context is a 400');

console.log(JSON.stringify({ ok: true, completion: completion.choices[0].text, chat: chat.choices[0].message.content, chunks }));
