# 自评页面（/assess/...）的界面文字。问卷本身的文字（题目、选项、等级、门槛条件）不在这里，
# 而是作为数据放在问卷旁边，见 analytics/instruments/texts。

site-name = Readiness
page-title = { $survey } – 在线填写
skip-link = 跳到问卷
language-switch = 语言
language-en = English
language-zh-Hans = 简体中文

intro-title = 你的企业适合定制自己的 AI 模型吗？
intro-body = 分 { $steps } 步回答 { $questions } 个关于你公司的简短问题，马上就能看到你的准备度等级，并获得一份行动计划和同类企业对比。你的回答严格保密：其他企业的数据只在群体足够大时才会展示，任何一家企业都无法被单独认出来。
intro-time = 大约需要 5 分钟。中途可以保存，之后再接着填。

step-progress = 第 { $step } 步，共 { $steps } 步
required-note = 除标明“选填”的题目外，均为必答题。
optional = （选填）

segment-title = 企业基本情况
segment-hint = 仅用于和同类企业做对比。
field-industry = 所属行业（NACE 门类）
field-industry-choose = 请选择行业
field-size-band = 员工人数
size-micro = 1～9 人（微型）
size-small = 10～49 人（小型）
size-medium = 50～249 人（中型）
size-large = 250 人及以上（大型）
field-country = 国家或地区
field-country-choose = 请选择国家或地区
field-region = 省份／州
field-region-hint = 填 ISO 3166-2 代码，例如 CN-GD（广东省）或 DE-BY（德国巴伐利亚州）。

nace-A = 农、林、牧、渔业
nace-B = 采矿业
nace-C = 制造业
nace-D = 电力、热力、燃气和空调供应业
nace-E = 供水、污水处理、废物管理和环境修复
nace-F = 建筑业
nace-G = 批发和零售业；机动车修理
nace-H = 交通运输、仓储和邮政业
nace-I = 住宿和餐饮业
nace-J = 信息和通信
nace-K = 金融和保险业
nace-L = 房地产业
nace-M = 专业、科学和技术服务业
nace-N = 行政和辅助服务业
nace-O = 公共管理和国防；强制性社会保障
nace-P = 教育
nace-Q = 卫生和社会工作
nace-R = 文化、体育和娱乐业
nace-S = 其他服务业
nace-T = 家庭作为雇主的活动
nace-U = 国际组织和域外机构

button-start = 开始
button-next = 下一步
button-back = 上一步
button-save = 保存，稍后再填
button-submit = 查看结果

title-error = 有错误：{ $title }
errors-title = 请检查以下问题
error-required = 请选择“{ $field }”的答案。
error-invalid = “{ $field }”的答案不在可选范围内，请重新选择。
error-region = 请填写所选国家的 ISO 3166-2 地区代码（例如 CN-GD），或者留空。

expired-form-title = 页面已过期
expired-form-body = 为了安全，这次提交没有被接受。已保存的答案不会丢失，请重新打开页面，再做一次最后这一步。
erased-title = 这些答案已无法提交
erased-body = 应要求，该企业的数据已从调查中删除。如需新的结果，请重新开始一次自评。

saved-title = 你的回答已保存
saved-body = 在任意设备上打开此链接，就能从上次停下的地方继续填写。链接 30 天内有效；拿到链接的人都能看到你的回答，请勿转发给他人。
saved-continue = 现在继续

link-invalid-title = 此链接无法使用
link-invalid-body = 链接已过期或不完整。请找发链接给你的人重新要一个，或者重新开始一次自评。
link-invalid-start = 重新开始自评
not-public-title = 本自评仅限受邀参加
not-public-body = 请向主办机构索取你的专属链接。

result-title = 你的结果
result-tier = 你的准备度等级
result-tier-of = 第 { $rank } 级（共 { $tiers } 级）
result-ready = 已具备定制模型的条件
result-stay = 暂时继续使用供应商模型
result-advice = 给你的建议
result-scores = 各维度得分
result-scores-caption = 得分为 0～100 分，根据你的回答计算。
result-print = 如需留存，可以打印本页，或在浏览器中另存为 PDF。
result-submitted = 提交时间：{ $date }

plan-title = 你的行动计划
plan-intro = 要达到“{ $tier }”，请从以下几点着手：
plan-top = 你已处于最高等级。请持续更新测试用例，并定期复盘效果。
plan-your-answer = 你的回答
plan-enough = 达标要求
plan-no-answer = 未作答
plan-or = 满足以下任意一项即可：
plan-next-step = 下一步行动

benchmark-title = 与同类企业对比
benchmark-group-industry_size_band_country = 本国同行业、同规模的企业
benchmark-group-industry_size_band = 同行业、同规模的企业
benchmark-group-size_band = 同规模的企业
benchmark-group-everyone = 所有参加自评的企业
benchmark-peers = 对比对象为其他 { $peers } 家企业（每家取最近一次回答）。
benchmark-none = 目前作答的同类企业还不够多，暂时无法在不暴露单个企业信息的前提下展示对比。请过段时间再来看看。
benchmark-tiers = 这些企业在各等级的占比
benchmark-dimension = 维度
benchmark-your-score = 你的得分
benchmark-percentile = 超过的企业占比
benchmark-percentile-value = { $percentile }%
benchmark-note = 为保护作答企业，显示的数量已取整，并略作随机调整。
