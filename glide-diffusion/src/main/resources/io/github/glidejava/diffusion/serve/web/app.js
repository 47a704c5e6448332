// glide serve's page: a thin client of the JSON API (/api/openapi.json). No framework, nothing from the internet.
'use strict';

const $ = (id) => document.getElementById(id);
const state = { models: [], job: null, events: null, source: null, sourceUrl: null };
// the mask is painted at the canvas's size; white = repaint, black = keep (the API's convention)
const mask = document.createElement('canvas');

async function api(path, options) {
  const r = await fetch(path, options);
  const body = r.headers.get('Content-Type')?.startsWith('application/json') ? await r.json() : null;
  if (!r.ok) {
    const e = new Error(body?.error || r.status + ' ' + r.statusText);
    e.field = body?.field;
    e.retryAfter = r.headers.get('Retry-After');
    throw e;
  }
  return body;
}

function model() {
  return state.models.find((m) => m.name === $('model').value);
}

async function loadModels() {
  const { models } = await api('api/models');
  state.models = models;
  $('model').replaceChildren(...models.map((m) => new Option(m.name + ' (' + m.imageSize + 'px)', m.name)));
  $('server-info').textContent = models.length + ' model(s): ' + models.map((m) => m.name).join(', ');
  modelChanged();
}

function modelChanged() {
  const m = model();
  $('task').replaceChildren(...m.tasks.map((t) => new Option(t, t)));
  $('sampler').replaceChildren(...m.samplers.map((s) => new Option(s, s)));
  $('num-images').max = m.maxImages;
  taskChanged();
}

function taskChanged() {
  const m = model();
  const task = $('task').value;
  const d = m.defaults[task];
  $('sampler').value = d.sampler;
  $('steps').value = d.steps;
  $('steps').max = d.maxSteps;
  $('guidance-label').hidden = task === 'upsample';
  if (d.guidanceScale !== undefined) $('guidance').value = d.guidanceScale;
  const needsImage = task !== 'text-to-image';
  $('source-area').hidden = !needsImage;
  $('mask-tools').hidden = task !== 'inpaint';
  $('source-hint').textContent = task === 'inpaint'
    ? 'Choose an image (or "Inpaint this" in the gallery), then paint the region to repaint.'
    : 'Choose the image to upsample.';
  drawSource();
}

// ---- the source image and the inpainting mask -------------------------------------------------------------------

function setSource(url) {
  const img = new Image();
  img.onload = () => {
    state.source = img;
    state.sourceUrl = url;
    const c = $('source-canvas');
    c.width = 256;
    c.height = Math.max(1, Math.round(256 * img.naturalHeight / img.naturalWidth));
    clearMask();
  };
  img.src = url;
}

function clearMask() {
  const c = $('source-canvas');
  mask.width = c.width;
  mask.height = c.height;
  const g = mask.getContext('2d');
  g.fillStyle = '#000';
  g.fillRect(0, 0, mask.width, mask.height);
  drawSource();
}

function drawSource() {
  const c = $('source-canvas');
  const g = c.getContext('2d');
  g.imageSmoothingEnabled = false;
  g.clearRect(0, 0, c.width, c.height);
  if (!state.source) return;
  g.drawImage(state.source, 0, 0, c.width, c.height);
  if ($('task').value !== 'inpaint') return;
  // the painted region, tinted red over the image
  const tint = document.createElement('canvas');
  tint.width = c.width;
  tint.height = c.height;
  const t = tint.getContext('2d');
  t.drawImage(mask, 0, 0);
  t.globalCompositeOperation = 'multiply';
  t.fillStyle = '#f00';
  t.fillRect(0, 0, c.width, c.height);
  g.globalAlpha = 0.5;
  g.globalCompositeOperation = 'lighter';
  g.drawImage(tint, 0, 0);
  g.globalAlpha = 1;
  g.globalCompositeOperation = 'source-over';
}

let painting = null;

function paintAt(ev) {
  const c = $('source-canvas');
  const r = c.getBoundingClientRect();
  const x = (ev.clientX - r.left) * c.width / r.width;
  const y = (ev.clientY - r.top) * c.height / r.height;
  const g = mask.getContext('2d');
  g.strokeStyle = g.fillStyle = $('erase').checked ? '#000' : '#fff';
  g.lineWidth = Number($('brush').value);
  g.lineCap = 'round';
  g.beginPath();
  if (painting.x === null) {
    g.arc(x, y, g.lineWidth / 2, 0, 2 * Math.PI);
    g.fill();
  } else {
    g.moveTo(painting.x, painting.y);
    g.lineTo(x, y);
    g.stroke();
  }
  painting = { x, y };
  drawSource();
}

function setUpCanvas() {
  const c = $('source-canvas');
  c.addEventListener('pointerdown', (ev) => {
    if (!state.source || $('task').value !== 'inpaint') return;
    painting = { x: null, y: null };
    c.setPointerCapture?.(ev.pointerId);
    paintAt(ev);
  });
  c.addEventListener('pointermove', (ev) => { if (painting) paintAt(ev); });
  const stop = () => { painting = null; };
  c.addEventListener('pointerup', stop);
  c.addEventListener('pointerleave', stop);
  $('clear-mask').addEventListener('click', clearMask);
  $('source-file').addEventListener('change', () => {
    const f = $('source-file').files[0];
    if (f) setSource(URL.createObjectURL(f));
  });
}

function canvasBlob(canvas) {
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
}

// ---- jobs -------------------------------------------------------------------------------------------------------

async function submit(ev) {
  ev.preventDefault();
  document.querySelectorAll('.field-error').forEach((e) => e.classList.remove('field-error'));
  $('form-error').textContent = '';
  const task = $('task').value;
  const form = new FormData();
  form.set('model', $('model').value);
  form.set('task', task);
  form.set('prompt', $('prompt').value);
  form.set('sampler', $('sampler').value);
  for (const [id, name] of [['steps', 'steps'], ['seed', 'seed'], ['num-images', 'numImages']]) {
    if ($(id).value !== '') form.set(name, $(id).value);
  }
  if (task !== 'upsample' && $('guidance').value !== '') form.set('guidanceScale', $('guidance').value);
  let original = null;
  if (task !== 'text-to-image') {
    if (!state.source) {
      showError({ message: 'image: choose an image first', field: 'image' });
      return;
    }
    // the image at the mask's size (the server resizes it to the model's)
    const c = document.createElement('canvas');
    c.width = $('source-canvas').width;
    c.height = $('source-canvas').height;
    c.getContext('2d').drawImage(state.source, 0, 0, c.width, c.height);
    original = c.toDataURL('image/png');
    form.set('image', await canvasBlob(c), 'image.png');
    if (task === 'inpaint') form.set('mask', await canvasBlob(mask), 'mask.png');
  }
  try {
    $('generate').disabled = true;
    const job = await api('api/jobs', { method: 'POST', body: form });
    track(job, original);
  } catch (e) {
    $('generate').disabled = false;
    showError(e);
  }
}

function showError(e) {
  const retry = e.retryAfter ? ' (retry in ' + e.retryAfter + ' s)' : '';
  $('form-error').textContent = e.message + retry;
  const ids = { prompt: 'prompt', model: 'model', task: 'task', sampler: 'sampler', steps: 'steps',
    guidanceScale: 'guidance', seed: 'seed', numImages: 'num-images', image: 'source-file', mask: 'source-canvas' };
  if (e.field && ids[e.field]) $(ids[e.field]).classList.add('field-error');
}

function track(job, original) {
  state.job = job;
  $('progress-panel').hidden = false;
  $('progress').value = 0;
  $('preview').removeAttribute('src');
  $('cancel').disabled = false;
  $('progress-text').textContent = queued(job);
  const es = new EventSource('api/jobs/' + job.id + '/events');
  state.events = es;
  const ended = (j) => {
    es.close();
    state.events = null;
    $('generate').disabled = false;
    $('cancel').disabled = true;
    $('progress-text').textContent = j.state === 'done'
      ? 'done in ' + (j.elapsedSeconds ?? 0).toFixed(1) + ' s, seed ' + j.seed
      : j.state + (j.error ? ': ' + j.error : '');
    if (j.state === 'done') $('progress').value = 1;
    addCard(j, original);
  };
  es.addEventListener('state', (e) => {
    const j = JSON.parse(e.data);
    if (j.state === 'queued' || j.state === 'running') $('progress-text').textContent = queued(j);
  });
  es.addEventListener('progress', (e) => {
    const p = JSON.parse(e.data);
    $('progress').value = p.fraction;
    const eta = p.etaSeconds == null ? '' : ', about ' + Math.ceil(p.etaSeconds) + ' s left';
    const batch = p.numBatches > 1 ? ' (batch ' + (p.batch + 1) + '/' + p.numBatches + ')' : '';
    $('progress-text').textContent = p.stage + ' step ' + p.step + '/' + p.numSteps + batch + eta;
  });
  es.addEventListener('preview', (e) => { $('preview').src = JSON.parse(e.data).image; });
  for (const end of ['done', 'failed', 'cancelled']) {
    es.addEventListener(end, (e) => ended(JSON.parse(e.data)));
  }
  es.onerror = async () => {
    // the stream broke before the job ended: settle with one look at the job
    if (!state.events) return;
    es.close();
    const j = await api('api/jobs/' + job.id).catch(() => null);
    if (j && ['done', 'failed', 'cancelled'].includes(j.state)) ended(j);
    else if (j) setTimeout(() => track(j, original), 1000);
  };
}

function queued(job) {
  return job.queuePosition ? 'queued (position ' + job.queuePosition + ')' : job.state === 'queued' ? 'starting' : job.state;
}

async function cancel() {
  const job = state.job;
  if (!job) return;
  $('cancel').disabled = true;
  try {
    await api('api/jobs/' + job.id + '/cancel', { method: 'POST' });
    // the job's final event may have come first: then its message stays
    if (state.events && state.job === job) $('progress-text').textContent = 'cancelling...';
  } catch (e) {
    if (state.events && state.job === job) $('progress-text').textContent = e.message;
  }
}

function addCard(job, original) {
  const card = document.createElement('div');
  card.className = 'card ' + job.state;
  card.dataset.job = job.id;
  const images = document.createElement('div');
  images.className = 'images';
  if (original) {
    const o = new Image();
    o.src = original;
    o.alt = 'original';
    o.className = 'original';
    images.append(o);
  }
  for (const url of job.images) {
    const img = new Image();
    img.src = url;
    img.alt = job.prompt;
    img.className = 'result';
    images.append(img);
  }
  const prompt = document.createElement('div');
  prompt.className = 'prompt';
  prompt.textContent = job.prompt === '' ? '(unconditional)' : job.prompt;
  const params = document.createElement('div');
  params.className = 'params';
  const p = job.parameters;
  params.textContent = job.state !== 'done' ? job.state + (job.error ? ': ' + job.error : '')
    : [job.model, p.task, p.sampler && p.sampler + ' ' + p.steps + ' steps',
      p.task !== 'upsample' ? 'guidance ' + p.guidanceScale : null, 'seed ' + p.seed,
      p.width + 'x' + p.height].filter(Boolean).join(' · ');
  const actions = document.createElement('div');
  actions.className = 'actions';
  job.images.forEach((url, i) => {
    const a = document.createElement('a');
    a.href = url;
    a.download = 'glide-' + job.id + '-' + i + '.png';
    a.textContent = job.images.length > 1 ? 'download ' + (i + 1) : 'download';
    a.className = 'download';
    actions.append(a);
  });
  if (job.state === 'done') {
    const again = document.createElement('button');
    again.type = 'button';
    again.className = 'reuse-seed';
    again.textContent = 'use this seed again';
    again.addEventListener('click', () => reuse(job));
    actions.append(again);
    const inpainter = state.models.find((m) => m.tasks.includes('inpaint'));
    if (inpainter && job.images.length) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'inpaint-this';
      b.textContent = 'inpaint this';
      b.addEventListener('click', () => {
        $('model').value = inpainter.name;
        modelChanged();
        $('task').value = 'inpaint';
        taskChanged();
        setSource(job.images[0]);
        $('prompt').value = job.prompt;
        $('compose').scrollIntoView({ behavior: 'smooth' });
      });
      actions.append(b);
    }
  }
  card.append(images, prompt, params, actions);
  $('gallery').prepend(card);
}

function reuse(job) {
  if (state.models.some((m) => m.name === job.model)) {
    $('model').value = job.model;
    modelChanged();
    $('task').value = job.task;
    taskChanged();
  }
  $('prompt').value = job.prompt;
  $('sampler').value = job.sampler;
  $('steps').value = job.steps;
  if (job.guidanceScale !== undefined) $('guidance').value = job.guidanceScale;
  $('num-images').value = job.numImages;
  $('seed').value = job.seed;
  $('prompt').focus();
}

// ---- training monitor -------------------------------------------------------------------------------------------

async function refreshTraining() {
  let t;
  try {
    t = await api('api/training');
  } catch (e) {
    return false; // no --train-dir: the section stays hidden
  }
  $('training').hidden = false;
  const m = t.latest;
  $('training-info').textContent = t.dir + (m ? ' · step ' + m.step + ', loss ' + Number(m.loss).toFixed(4) : '');
  if (t.lossCurve && $('loss-curve').getAttribute('src') !== t.lossCurve) $('loss-curve').src = t.lossCurve;
  if (t.samples && $('train-samples').getAttribute('src') !== t.samples) $('train-samples').src = t.samples;
  $('samples-caption').textContent = t.samplesStep == null ? 'no samples yet' : 'samples at step ' + t.samplesStep;
  return true;
}

async function main() {
  $('model').addEventListener('change', modelChanged);
  $('task').addEventListener('change', taskChanged);
  $('job-form').addEventListener('submit', submit);
  $('cancel').addEventListener('click', cancel);
  setUpCanvas();
  try {
    await loadModels();
  } catch (e) {
    $('form-error').textContent = 'cannot reach the server: ' + e.message;
  }
  if (await refreshTraining()) setInterval(refreshTraining, 5000);
}

main();
