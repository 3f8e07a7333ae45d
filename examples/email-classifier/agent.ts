/**
 * email-classifier: the focused agent of the twelve-factor article. One inbound email
 * in, one label from a fixed set out, with a confidence. No tools, structured output.
 * When no model can answer, keyword rules do (fallback.ts), with a low confidence.
 */
import { z } from 'zod';
import { defineAgent } from 'twelve-agents';
import { classifyByKeywords } from './fallback.js';

export const labels = ['billing', 'technical_support', 'sales', 'account_access', 'spam', 'other'] as const;

export default defineAgent({
  name: 'email-classifier',
  purpose: 'Classify one inbound customer email into a fixed label set, with a confidence.',
  model: 'openai:gpt-4o-mini-2024-07-18',
  fallbackModels: ['anthropic:claude-haiku-4-5-20251001'],
  prompt: new URL('./prompt.md', import.meta.url),
  output: z.object({
    label: z.enum(labels),
    confidence: z.number().min(0).max(1),
    reason: z.string().min(1).max(300),
  }),
  modelSettings: { temperature: 0, maxOutputTokens: 300 },
  limits: { maxSteps: 3, maxCostUsd: 0.05 },
  confidence: 'confidence',
  fallback: classifyByKeywords,
  recordings: new URL('./recordings', import.meta.url),
});
