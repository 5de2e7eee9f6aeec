/* The status page: one self-contained HTML page (no assets from elsewhere)
 * that shows the status inlined in it, then fetches status.json every 2 s.
 * Every value goes into the page as text (textContent), never as markup. */
#include <stdlib.h>
#include <string.h>

#include "muletto/ui/status.h"

static const char status_html_head[] =
	"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	"<title>muletto</title>\n<style>\n"
	"body{font:15px/1.4 system-ui,sans-serif;margin:1.2em;color:#222;background:#fafafa}\n"
	"h1{font-size:1.3em;margin:0 0 .2em}h2{font-size:1.05em;margin:1.2em 0 .4em}\n"
	".sub{color:#666;font-size:.9em}\n"
	".job{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.6em .8em;margin:.5em 0}\n"
	".job b{font-size:1.05em}.state{display:inline-block;padding:0 .5em;border-radius:4px;"
	"margin-left:.5em;font-size:.85em;background:#ddd}\n"
	".running .state{background:#cde3ff}.done .state{background:#c8efc8}"
	".failed .state,.ended .state{background:#f7c6c6}\n"
	".bar{height:14px;background:#eee;border-radius:7px;overflow:hidden;margin:.4em 0}\n"
	".fill{height:100%;background:#3b82f6}.done .fill{background:#22a35a}"
	".failed .fill{background:#d33}\n"
	".msg{font:12px/1.3 monospace;white-space:pre-wrap;margin:.1em 0}"
	".warning,.error{color:#b00}\n"
	"table{border-collapse:collapse;background:#fff}td,th{border:1px solid #ddd;"
	"padding:.2em .5em;text-align:left}\n"
	"pre{background:#111;color:#ddd;padding:.6em;overflow-x:auto;font-size:12px}\n"
	"</style></head><body>\n"
	"<h1>muletto on <span id=\"host\"></span></h1>\n"
	"<div class=\"sub\">updated <span id=\"time\"></span> <span id=\"conn\"></span></div>\n"
	"<h2>Jobs</h2><div id=\"jobs\"></div>\n"
	"<h2>Disks</h2><table><thead><tr><th>device</th><th>model</th><th>serial</th>"
	"<th>size</th><th>bus</th><th>note</th></tr></thead><tbody id=\"disks\"></tbody></table>\n"
	"<h2>Log</h2><pre id=\"log\"></pre>\n"
	"<script type=\"application/json\" id=\"initial\">";

static const char status_html_tail[] =
	"</script>\n<script>\n"
	"'use strict';\n"
	"const $=id=>document.getElementById(id);\n"
	"function el(tag,cls,text){const e=document.createElement(tag);if(cls)e.className=cls;"
	"if(text!==undefined&&text!==null)e.textContent=String(text);return e;}\n"
	"function size(n){n=Number(n)||0;const u=['B','KiB','MiB','GiB','TiB'];let i=0;"
	"while(n>=1024&&i<u.length-1){n/=1024;i++;}return (i?n.toFixed(n<10?1:0):n)+' '+u[i];}\n"
	"function secs(s){if(s===null||s===undefined||s<0)return '--:--';s=Math.round(s);"
	"const h=Math.floor(s/3600),m=Math.floor(s/60)%60,x=s%60;"
	"return (h?h+':'+String(m).padStart(2,'0'):m)+':'+String(x).padStart(2,'0');}\n"
	"function job(j){const d=el('div','job '+(j.state||''));d.dataset.op=j.op||'';"
	"d.dataset.done=j.done;d.dataset.total=j.total;d.dataset.percent=j.percent;"
	"d.dataset.state=j.state||'';if(j.pid)d.dataset.pid=j.pid;\n"
	"const t=el('div');t.append(el('b','',(j.op||'job')+' '+(j.image||'')));"
	"t.append(el('span','state',j.state));d.append(t);\n"
	"d.append(el('div','sub',j.op==='capture'?'into '+(j.repo||''):(j.repo?'from '+j.repo+' ':'')+(j.target?'onto '+j.target:'')));\n"
	"const b=el('div','bar'),f=el('div','fill');f.style.width=Math.min(100,Number(j.percent)||0)+'%';"
	"b.append(f);d.append(b);\n"
	"const c=j.counts||{};let line=j.percent+' % \\u2014 '+size(j.done)+' of '+size(j.total)+"
	"' ('+j.done+' of '+j.total+' bytes)';\n"
	"if(j.state==='running')line+=' \\u2014 '+size(j.rate)+'/s, ETA '+secs(j.eta);"
	"else line+=' \\u2014 in '+secs(j.seconds);\n"
	"const k=j.chunks||(c.chunks_total!==undefined?{fetched:c.chunks_fetched,seeded:c.chunks_seeded,"
	"zero:c.chunks_zero,total:c.chunks_total}:null);\n"
	"if(k)line+=' \\u2014 fetched '+k.fetched+', seeded '+k.seeded+', zero '+k.zero+' of '+"
	"k.total+' chunks';\n"
	"d.append(el('div','line',line));\n"
	"if(j.error)d.append(el('div','msg error','error: '+j.error));\n"
	"for(const m of (j.messages||[]).slice(-5))d.append(el('div','msg '+m.kind,m.time+' '+m.kind+': '+m.text));\n"
	"return d;}\n"
	"function render(s){$('host').textContent=s.host||'';$('time').textContent=s.time||'';\n"
	"const js=$('jobs');js.replaceChildren();\n"
	"for(const v of s.vms||[]){let l=0,t=0;for(const k of v.disks||[]){l+=k.local_bytes;t+=k.total_bytes;}"
	"js.append(job({op:'run',image:v.name,state:v.state==='running'?'running':v.state,done:l,total:t,"
	"percent:t?Math.floor(l*100/t):0,rate:0,eta:null,seconds:v.seconds}));}\n"
	"for(const j of s.jobs||[])js.append(job(j));\n"
	"if(!js.children.length)js.append(el('div','sub','no jobs'));\n"
	"const ds=$('disks');ds.replaceChildren();\n"
	"for(const k of s.disks||[]){const r=el('tr');for(const v of [k.device,k.model,k.serial,size(k.size),"
	"k.bus,(k.boot?'boot or config medium ':'')+(k.in_use?'in use':'')])r.append(el('td','',v));ds.append(r);}\n"
	"$('log').textContent=(s.log||[]).join('\\n');}\n"
	"render(JSON.parse($('initial').textContent));\n"
	"const tok=new URLSearchParams(location.search).get('token');\n"
	"const url='status.json'+(tok?'?token='+encodeURIComponent(tok):'');\n"
	"setInterval(async()=>{try{const r=await fetch(url,{cache:'no-store'});"
	"if(!r.ok){$('conn').textContent='(HTTP '+r.status+')';return;}"
	"render(await r.json());$('conn').textContent='';}catch(e){$('conn').textContent='(not reachable)';}},2000);\n"
	"</script></body></html>\n";

char *status_page_html(const json_t *s)
{
	char *json = json_dumps(s, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ESCAPE_SLASH);
	size_t hl = strlen(status_html_head), tl = strlen(status_html_tail), jl, k = 0;
	char *out = NULL, *p;

	if (!json)
		return NULL;
	jl = strlen(json);
	/* '<', '>' and '&' only occur inside JSON strings: as \u escapes they
	 * cannot end the script element or open a comment in it */
	if (!(out = malloc(hl + 6 * jl + tl + 1)))
		goto out;
	memcpy(out, status_html_head, hl);
	k = hl;
	for (p = json; *p; p++) {
		if (*p == '<' || *p == '>' || *p == '&')
			k += (size_t)snprintf(out + k, 7, "\\u%04x", (unsigned)*p);
		else
			out[k++] = *p;
	}
	memcpy(out + k, status_html_tail, tl + 1);
out:
	free(json);
	return out;
}
