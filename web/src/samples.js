// samples.js — code that calls an endpoint, filled in with its URL and reading the key from the
// MAAS_KEY environment variable (the page never writes a key into a sample): curl, the openai
// clients for Python and JavaScript, and the Azure AI Inference SDKs.

export function samples(e) {
  const url = e.url;
  const base = e.openai_base_url;
  const insecure = url.startsWith("http:");
  const model = e.model ? `"${e.model}"` : null;  // online endpoints route by traffic instead
  const payload = JSON.stringify({ ...(e.model ? { model: e.model } : {}),
                                   messages: [{ role: "user", content: "Hello!" }], max_tokens: 64 });
  return [
    { id: "curl", label: "curl", note: "Set MAAS_KEY to one of the endpoint's keys first (Details tab: Keys).",
      code: `curl "${url}/v1/chat/completions" \\
  -H "Authorization: Bearer $MAAS_KEY" \\
  -H "Content-Type: application/json" \\
  -d '${payload}'` },
    { id: "python", label: "Python (openai)", note: "pip install openai; MAAS_KEY holds the key.",
      code: `import os
from openai import OpenAI

client = OpenAI(base_url="${base}", api_key=os.environ["MAAS_KEY"])
response = client.chat.completions.create(
${model ? `    model=${model},\n` : ""}    messages=[{"role": "user", "content": "Hello!"}],
    max_tokens=64,
)
print(response.choices[0].message.content)` },
    { id: "javascript", label: "JavaScript (openai)", note: "npm install openai; save as chat.mjs; MAAS_KEY holds the key.",
      code: `import OpenAI from "openai";

const client = new OpenAI({ baseURL: "${base}", apiKey: process.env.MAAS_KEY });
const response = await client.chat.completions.create({
${model ? `  model: ${model},\n` : ""}  messages: [{ role: "user", content: "Hello!" }],
  max_tokens: 64,
});
console.log(response.choices[0].message.content);` },
    { id: "azure-python", label: "Azure AI Inference (Python)", note: "pip install azure-ai-inference; MAAS_KEY holds the key.",
      code: `import os
from azure.ai.inference import ChatCompletionsClient
from azure.ai.inference.models import UserMessage
from azure.core.credentials import AzureKeyCredential

client = ChatCompletionsClient(endpoint="${url}", credential=AzureKeyCredential(os.environ["MAAS_KEY"]))
response = client.complete(messages=[UserMessage(content="Hello!")], max_tokens=64)
print(response.choices[0].message.content)` },
    { id: "azure-javascript", label: "Azure AI Inference (JavaScript)",
      note: "npm install @azure-rest/ai-inference @azure/core-auth; save as chat.mjs; MAAS_KEY holds the key.",
      code: `import ModelClient, { isUnexpected } from "@azure-rest/ai-inference";
import { AzureKeyCredential } from "@azure/core-auth";

const client = ModelClient("${url}", new AzureKeyCredential(process.env.MAAS_KEY)${insecure ? ", { allowInsecureConnection: true }" : ""});
const response = await client.path("/chat/completions").post({
  body: { messages: [{ role: "user", content: "Hello!" }], max_tokens: 64 },
});
if (isUnexpected(response)) throw new Error(response.body.error.message);
console.log(response.body.choices[0].message.content);` },
  ];
}
